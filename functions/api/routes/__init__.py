"""The API's routes beyond sign-in and reads, one Powertools Router per object kind."""
