"""Names of the domain events, declared once.

Each is published on the stack's EventBridge bus (detail-type) by the write layer after the
write that it reports has succeeded; the realtime and automation work consume them by name.
"""

SOURCE = "inbox"

CONTACT_CREATED = "contact.created"
# Members changed its email, phone, notes or tags (actions/contacts.py); names the fields.
CONTACT_UPDATED = "contact.updated"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
MESSAGE_STATUS_CHANGED = "message.status_changed"
PAGE_CONNECTED = "page.connected"
PAGE_DISCONNECTED = "page.disconnected"
# Routing (actions/routing.py); each also has a timeline entry on its conversation.
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_TRANSFERRED = "conversation.transferred"
CONVERSATION_CLOSED = "conversation.closed"
CONVERSATION_REOPENED = "conversation.reopened"
CONVERSATION_HANDED_OVER = "conversation.handed_over"
MEMBER_STATUS_CHANGED = "member.status_changed"
# Facebook refused the page's token: sends wait until someone reconnects the page.
PAGE_RECONNECT_NEEDED = "page.reconnect_needed"
# A contact and everything about it erased (actions/privacy.py).
CONTACT_ERASED = "contact.erased"

ALL = (
    CONTACT_CREATED,
    CONTACT_UPDATED,
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    MESSAGE_STATUS_CHANGED,
    PAGE_CONNECTED,
    PAGE_DISCONNECTED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_TRANSFERRED,
    CONVERSATION_CLOSED,
    CONVERSATION_REOPENED,
    CONVERSATION_HANDED_OVER,
    MEMBER_STATUS_CHANGED,
    PAGE_RECONNECT_NEEDED,
    CONTACT_ERASED,
)
