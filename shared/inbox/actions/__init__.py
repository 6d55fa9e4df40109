"""The write layer: every domain write, each followed by its domain events.

`check_*` functions validate input and the member's rights; `do_*` functions write and
publish, assuming the checks were made. Entry points named after the action (such as
`connect_page`) run both.
"""
