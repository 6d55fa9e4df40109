"""Names of the domain events, declared once.

Each is published on the stack's EventBridge bus (detail-type) by the write layer after the
write that it reports has succeeded; the realtime and automation work consume them by name.
"""

SOURCE = "inbox"

CONTACT_CREATED = "contact.created"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
MESSAGE_STATUS_CHANGED = "message.status_changed"
PAGE_CONNECTED = "page.connected"
PAGE_DISCONNECTED = "page.disconnected"

ALL = (
    CONTACT_CREATED,
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    MESSAGE_STATUS_CHANGED,
    PAGE_CONNECTED,
    PAGE_DISCONNECTED,
)
