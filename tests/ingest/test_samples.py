"""Each saved Facebook webhook, posted signed, gives exactly the inbox its README describes.

One test per file of the handbook's `facebook/webhooks/`; a test replays the files a row
"follows" first. Results are read through the API's read layer, as an owner would see them.
"""

from __future__ import annotations

import pytest

from tests.ingest.helpers import dead_letters, replay
from tests.ingest.view import (
    POST,
    A,
    B,
    comment,
    commenter,
    conversation_ids,
    detail,
    message,
    messages,
    messenger,
    snapshot,
    summary,
)

ALEX = messenger(A, "2000000000000001")
SAM = messenger(A, "2000000000000002")

pytestmark = pytest.mark.usefixtures("pages")


def test_01_text_from_a_new_contact_creates_its_conversation(aws):
    replay(aws, "01-text-plain.json")

    assert conversation_ids() == {ALEX}
    m = message(ALEX, "m_SAMPLE-0001")
    assert (m.direction, m.origin, m.type, m.status) == ("in", "contact", "text", "received")
    assert m.text == "Hello! Do you ship to Lisbon? I need the parcel by Friday."
    assert m.attachments == []
    conversation = detail(ALEX)
    assert conversation.status == "unassigned"
    assert conversation.unread_count == 1
    assert conversation.contact.name == "Alex Sample"
    assert dead_letters(aws) == 0


def test_02_quick_reply_keeps_its_payload(aws):
    replay(aws, "02-text-quick-reply.json")

    m = message(ALEX, "m_SAMPLE-0002")
    assert (m.direction, m.type, m.text) == ("in", "text", "Track my order")
    assert m.quick_reply_payload == "QR_TRACK_ORDER"
    assert m.attachments == []


def test_03_reply_to_is_marked(aws):
    replay(aws, "01-text-plain.json", "03-text-reply-to.json")

    m = message(ALEX, "m_SAMPLE-0003")
    assert m.text == "The address is the same as on my last order."
    assert m.reply_to == "m_SAMPLE-0001"


def test_04_long_text_is_stored_uncut(aws):
    replay(aws, "04-text-long-2000.json")

    m = message(messenger(A, "2000000000000003"), "m_SAMPLE-0004")
    assert len(m.text) == 2000
    assert m.text.startswith("Hello! I am writing about order 58213")
    assert m.text.endswith("Kind regards, Robin M.")


@pytest.mark.parametrize(("file", "mid", "kind"), [
    ("05-attachment-image.json", "m_SAMPLE-0005", "image"),
    ("06-attachment-audio.json", "m_SAMPLE-0006", "audio"),
    ("07-attachment-file.json", "m_SAMPLE-0007", "file"),
])
def test_05_to_07_media_attachments(aws, file, mid, kind):
    replay(aws, file)

    m = message(SAM, mid)
    assert (m.direction, m.type, m.text) == ("in", "attachment", None)
    assert [a.type for a in m.attachments] == [kind]
    assert m.attachments[0].url.startswith("https://")


def test_08_sticker_keeps_its_id(aws):
    replay(aws, "08-attachment-sticker.json")

    [attachment] = message(SAM, "m_SAMPLE-0008").attachments
    assert attachment.type == "sticker"
    assert attachment.payload == {"sticker_id": 369239263222822}


def test_09_location_keeps_coordinates_and_title(aws):
    replay(aws, "09-attachment-location.json")

    [attachment] = message(SAM, "m_SAMPLE-0009").attachments
    assert attachment.type == "location"
    assert attachment.title == "Pinned Location"
    assert attachment.payload == {"coordinates": {"lat": 38.7223, "long": -9.1393}}


def test_10_shared_link_keeps_text_and_fallback(aws):
    replay(aws, "10-attachment-fallback-link.json")

    m = message(SAM, "m_SAMPLE-0010")
    assert m.type == "attachment"
    assert m.text == "Have a look at this one: https://shop.example.com/item/42"
    [attachment] = m.attachments
    assert (attachment.type, attachment.url, attachment.title) == (
        "fallback", "https://shop.example.com/item/42", "Item 42 - Sample Shop")


def test_11_reel(aws):
    replay(aws, "11-attachment-reel.json")

    [attachment] = message(SAM, "m_SAMPLE-0011").attachments
    assert attachment.type == "reel"
    assert attachment.title == "Sample reel caption"
    assert attachment.payload == {"reel_video_id": 700000000000001}


def test_12_several_attachments_are_one_message_in_order(aws):
    replay(aws, "12-attachments-several.json")

    assert [m.facebook_id for m in messages(SAM)] == ["m_SAMPLE-0012"]
    assert [a.type for a in message(SAM, "m_SAMPLE-0012").attachments] == [
        "image", "image", "video"]


def test_13_echo_of_our_app_not_held_is_stored_as_ours(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json")

    m = message(ALEX, "m_SAMPLE-0013")
    assert (m.direction, m.origin, m.type, m.status) == ("out", "inbox", "text", "sent")
    assert m.text == "Yes, we ship to Lisbon. Standard delivery takes 2 to 3 working days."


def test_13_echo_of_a_message_we_sent_adds_nothing(aws):
    from inbox.actions.inbound import outbound_metadata
    from inbox.models import Message, conversation_pk, message_sk

    from tests.ingest.helpers import drain, post_webhook, sample

    replay(aws, "01-text-plain.json")
    # What the send path will store before calling the Send API: a pending message whose
    # metadata names it.
    sent = Message(conversation_pk(ALEX), message_sk(1767603899000, "local-0013"),
                   conversation_id=ALEX, direction="out", origin="inbox", type="text",
                   text="Yes, we ship to Lisbon.", send_status="pending",
                   created_at=1767603899000)
    sent.save()
    raw = sample("13-echo-our-app.json").replace(
        b'"inbox-outbound-0013"', f'"{outbound_metadata("1767603899000#local-0013")}"'.encode())
    assert post_webhook(raw)["statusCode"] == 200
    drain(aws)

    assert summary(ALEX) == [
        ("m_SAMPLE-0001", "in", "contact", "text", "received"),
        ("m_SAMPLE-0013", "out", "inbox", "text", "sent"),
    ]


def test_14_echo_from_another_app_is_external_template(aws):
    replay(aws, "01-text-plain.json", "14-echo-other-app-generic-template.json")

    m = message(ALEX, "m_SAMPLE-0014")
    assert (m.direction, m.origin, m.type, m.text, m.status) == (
        "out", "external", "attachment", None, "sent")
    [attachment] = m.attachments
    assert attachment.type == "template"
    assert attachment.payload["template_type"] == "generic"
    assert [e["title"] for e in attachment.payload["elements"]] == [
        "Sample Desk Lamp", "Sample Tea Mug"]


def test_15_delivery_marks_both_delivered(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json",
           "14-echo-other-app-generic-template.json", "15-delivery.json")

    assert message(ALEX, "m_SAMPLE-0013").status == "delivered"
    assert message(ALEX, "m_SAMPLE-0014").status == "delivered"
    assert len(messages(ALEX)) == 3


def test_16_read_marks_out_messages_read_and_leaves_in_untouched(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json",
           "14-echo-other-app-generic-template.json", "16-read.json")

    assert summary(ALEX) == [
        ("m_SAMPLE-0001", "in", "contact", "text", "received"),
        ("m_SAMPLE-0013", "out", "inbox", "text", "read"),
        ("m_SAMPLE-0014", "out", "external", "attachment", "read"),
    ]


def test_16_read_before_the_messages_it_covers_still_applies(aws):
    replay(aws, "16-read.json", "15-delivery.json", "01-text-plain.json",
           "14-echo-other-app-generic-template.json", "13-echo-our-app.json")

    assert message(ALEX, "m_SAMPLE-0013").status == "read"
    assert message(ALEX, "m_SAMPLE-0014").status == "read"


def test_17_reaction_on_our_reply(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json", "17-reaction-react.json")

    m = message(ALEX, "m_SAMPLE-0013")
    assert (m.reaction.reaction, m.reaction.emoji) == ("love", "\u2764\ufe0f")
    assert len(messages(ALEX)) == 2


def test_18_unreact_removes_the_reaction(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json", "17-reaction-react.json",
           "18-reaction-unreact.json")

    assert message(ALEX, "m_SAMPLE-0013").reaction is None


def test_18_unreact_arriving_before_the_reaction_wins_by_time(aws):
    replay(aws, "01-text-plain.json", "13-echo-our-app.json", "18-reaction-unreact.json",
           "17-reaction-react.json")

    assert message(ALEX, "m_SAMPLE-0013").reaction is None


def test_19_edit_updates_text_and_keeps_the_old(aws):
    replay(aws, "01-text-plain.json", "19-message-edit.json")

    m = message(ALEX, "m_SAMPLE-0001")
    assert m.text == "Hello! Do you ship to Lisbon? I need the parcel by Thursday."
    assert m.edited.count == 1
    assert m.edited.previous == ["Hello! Do you ship to Lisbon? I need the parcel by Friday."]
    assert len(messages(ALEX)) == 1


def test_19_edit_before_its_message_is_not_lost(aws):
    replay(aws, "19-message-edit.json", "01-text-plain.json")

    m = message(ALEX, "m_SAMPLE-0001")
    assert m.text == "Hello! Do you ship to Lisbon? I need the parcel by Thursday."
    assert m.edited.count == 1


def test_20_page_inbox_echo_is_external(aws):
    replay(aws, "05-attachment-image.json", "20-echo-page-inbox.json")

    m = message(SAM, "m_SAMPLE-0020")
    assert (m.direction, m.origin, m.type, m.status) == ("out", "external", "text", "sent")
    assert m.text == "Thanks for the photos and the file! We will check them today \U0001f64f"


def test_21_get_started_postback_with_link_referral(aws):
    replay(aws, "21-postback-get-started-referral.json")

    conversation_id = messenger(A, "2000000000000004")
    m = message(conversation_id, "m_SAMPLE-0021")
    assert (m.direction, m.type, m.text, m.postback_payload) == (
        "in", "postback", "Get Started", "GET_STARTED")
    referral = detail(conversation_id).referral
    assert (referral.kind, referral.source, referral.ref) == ("link", "SHORTLINK",
                                                              "winter-catalog")


def test_22_ad_referral_on_an_existing_thread(aws):
    replay(aws, "01-text-plain.json", "22-referral-ad.json")

    referral = detail(ALEX).referral
    assert (referral.kind, referral.ad_id, referral.ad_title, referral.ad_post_id,
            referral.ref) == ("ad", "600000000000001", "Sample Winter Sale",
                              "100000000000001_300000000000009", "ad-sample-winter")
    assert referral.ad_photo_url.startswith("https://")
    assert len(messages(ALEX)) == 1


def test_23_mme_link_referral(aws):
    replay(aws, "05-attachment-image.json", "23-referral-mme-link.json")

    referral = detail(SAM).referral
    assert (referral.kind, referral.source, referral.ref) == ("link", "SHORTLINK",
                                                              "spring-catalog-link")
    assert len(messages(SAM)) == 1


def test_24_standby_message_is_stored_as_a_message(aws):
    replay(aws, "24-standby-message.json")

    m = message(messenger(A, "2000000000000005"), "m_SAMPLE-0024")
    assert (m.direction, m.type) == ("in", "text")
    assert m.text == ("\u0645\u0631\u062d\u0628\u064b\u0627\u060c \u0647\u0644 \u064a\u0645\u0643"
                      "\u0646\u0646\u064a \u062a\u063a\u064a\u064a\u0631 \u0639\u0646\u0648\u0627"
                      "\u0646 \u0627\u0644\u062a\u0648\u0635\u064a\u0644 \u0644\u0644\u0637\u0644"
                      "\u0628 \u0631\u0642\u0645 1042\u061f \u0634\u0643\u0631\u064b\u0627 \u0644"
                      "\u0643\u0645.")


@pytest.mark.parametrize("file", [
    "25-optin.json",
    "29-page-not-connected.json",
    "30-unknown-field-inbox-labels.json",
    "39-feed-reaction-on-post.json",
    "40-feed-status-post.json",
])
def test_acknowledged_events_store_nothing(aws, file):
    replay(aws, file)

    assert conversation_ids() == set()
    assert dead_letters(aws) == 0


def test_26_batch_of_two_pages_out_of_order(aws):
    replay(aws, "26-batch-two-pages-out-of-order.json")

    assert summary(messenger(B, "2000000000000010")) == [
        ("m_SAMPLE-0026a", "in", "contact", "text", "received"),
        ("m_SAMPLE-0026b", "in", "contact", "text", "received"),
        ("m_SAMPLE-0026c", "out", "external", "text", "delivered"),
    ]
    assert summary(messenger(A, "2000000000000007")) == [
        ("m_SAMPLE-0026d", "in", "contact", "text", "received"),
        ("m_SAMPLE-0026e", "out", "external", "text", "sent"),
        ("m_SAMPLE-0026f", "in", "contact", "text", "received"),
    ]
    assert message(messenger(B, "2000000000000010"), "m_SAMPLE-0026a").text == (
        "\u4f60\u597d\uff01\u8bf7\u95ee\u8fd9\u6b3e\u8336\u58f6\u6709\u767d\u8272\u7684\u5417"
        "\uff1f")
    newest_first = detail(messenger(A, "2000000000000007"))
    assert newest_first.last_message_preview == "Great, see you then \U0001f44d"
    assert newest_first.unread_count == 2


def test_27_28_a_retried_delivery_is_stored_once(aws):
    replay(aws, "27-duplicate-first-delivery.json", "28-duplicate-second-delivery.json")

    conversation_id = messenger(A, "2000000000000008")
    assert [m.facebook_id for m in messages(conversation_id)] == ["m_SAMPLE-0027"]
    assert detail(conversation_id).unread_count == 1


def test_28_alone_does_what_27_does(aws):
    replay(aws, "28-duplicate-second-delivery.json")

    m = message(messenger(A, "2000000000000008"), "m_SAMPLE-0027")
    assert m.text == "Is the blue mug dishwasher safe? \u2615\U0001f642"


def test_31_top_level_comment(aws):
    replay(aws, "31-comment-add.json")

    alex = commenter("2500000000000001")
    assert conversation_ids() == {alex}
    m = message(alex, comment(1))
    assert (m.direction, m.origin, m.type, m.parent_comment_id) == (
        "in", "contact", "comment", None)
    assert m.text == "How much is shipping to Porto for the green lamp?"
    conversation = detail(alex)
    assert (conversation.channel, conversation.post_id) == ("comment", POST)
    assert conversation.contact.name == "Alex Sample"


def test_32_reply_under_a_comment_is_its_authors_own_conversation(aws):
    replay(aws, "32-comment-reply-to-comment.json")

    sam = commenter("2500000000000002")
    assert conversation_ids() == {sam}
    m = message(sam, comment(2))
    assert m.parent_comment_id == comment(1)
    assert m.text == "Same question here, and is there a white one?"
    assert detail(sam).contact.name == "Sam Example"


def test_33_photo_comment(aws):
    replay(aws, "33-comment-photo.json")

    m = message(commenter("2500000000000003"), comment(3))
    assert (m.type, m.text) == ("comment", None)
    assert [a.type for a in m.attachments] == ["image"]


def test_34_comment_edit(aws):
    replay(aws, "31-comment-add.json", "34-comment-edited.json")

    m = message(commenter("2500000000000001"), comment(1))
    assert m.text == "How much is shipping to Porto or Faro for the green lamp?"
    assert m.edited.count == 1
    assert m.edited.previous == ["How much is shipping to Porto for the green lamp?"]


def test_35_36_hide_then_unhide(aws):
    alex = commenter("2500000000000001")
    replay(aws, "31-comment-add.json", "35-comment-hide.json")
    assert message(alex, comment(1)).hidden is True
    assert message(alex, comment(1)).author_id == "2500000000000001"

    replay(aws, "36-comment-unhide.json")
    assert message(alex, comment(1)).hidden is False
    assert conversation_ids() == {alex}


def test_35_hide_before_its_comment_waits_for_it(aws):
    replay(aws, "35-comment-hide.json", "31-comment-add.json")

    assert message(commenter("2500000000000001"), comment(1)).hidden is True


def test_37_page_reply_is_outbound_in_the_commenters_conversation(aws):
    replay(aws, "31-comment-add.json", "37-comment-by-page.json")

    alex = commenter("2500000000000001")
    assert conversation_ids() == {alex}
    m = message(alex, comment(10))
    assert (m.direction, m.origin, m.type, m.parent_comment_id) == (
        "out", "external", "comment", comment(1))
    assert m.text.startswith("Hi Alex! Shipping to Porto or Faro is 4.90 EUR.")


def test_37_page_reply_before_the_comment_it_answers(aws):
    replay(aws, "37-comment-by-page.json", "31-comment-add.json")

    alex = commenter("2500000000000001")
    assert [m.facebook_id for m in messages(alex)] == [comment(1), comment(10)]


def test_38_removed_comment_is_kept_and_marked(aws):
    replay(aws, "31-comment-add.json", "37-comment-by-page.json", "38-comment-remove.json")

    alex = commenter("2500000000000001")
    assert message(alex, comment(1)).deleted is True
    assert message(alex, comment(10)).deleted is False


ALL_SAMPLES = [
    "01-text-plain.json", "02-text-quick-reply.json", "03-text-reply-to.json",
    "04-text-long-2000.json", "05-attachment-image.json", "06-attachment-audio.json",
    "07-attachment-file.json", "08-attachment-sticker.json", "09-attachment-location.json",
    "10-attachment-fallback-link.json", "11-attachment-reel.json",
    "12-attachments-several.json", "13-echo-our-app.json",
    "14-echo-other-app-generic-template.json", "15-delivery.json", "16-read.json",
    "17-reaction-react.json", "18-reaction-unreact.json", "19-message-edit.json",
    "20-echo-page-inbox.json", "21-postback-get-started-referral.json",
    "22-referral-ad.json", "23-referral-mme-link.json", "24-standby-message.json",
    "25-optin.json", "26-batch-two-pages-out-of-order.json",
    "27-duplicate-first-delivery.json", "28-duplicate-second-delivery.json",
    "29-page-not-connected.json", "30-unknown-field-inbox-labels.json",
    "31-comment-add.json", "32-comment-reply-to-comment.json", "33-comment-photo.json",
    "34-comment-edited.json", "35-comment-hide.json", "36-comment-unhide.json",
    "37-comment-by-page.json", "38-comment-remove.json", "39-feed-reaction-on-post.json",
    "40-feed-status-post.json",
]


def test_all_forty_in_order_give_the_final_state_and_twice_changes_nothing(aws):
    replay(aws, *ALL_SAMPLES)

    state = snapshot()
    assert len(state) == 11
    assert sum(len(msgs) for msgs, _ in state.values()) == 28
    assert summary(ALEX) == [
        ("m_SAMPLE-0001", "in", "contact", "text", "received"),
        ("m_SAMPLE-0013", "out", "inbox", "text", "read"),
        ("m_SAMPLE-0014", "out", "external", "attachment", "read"),
        ("m_SAMPLE-0002", "in", "contact", "text", "received"),
        ("m_SAMPLE-0003", "in", "contact", "text", "received"),
    ]
    assert message(ALEX, "m_SAMPLE-0001").text.endswith("by Thursday.")
    assert message(ALEX, "m_SAMPLE-0013").reaction is None
    assert detail(ALEX).referral.ad_id == "600000000000001"
    assert [m.facebook_id for m in messages(SAM)] == [
        *(f"m_SAMPLE-{n:04d}" for n in range(5, 13)), "m_SAMPLE-0020"]
    assert detail(SAM).referral.ref == "spring-catalog-link"
    alex = commenter("2500000000000001")
    c1 = message(alex, comment(1))
    assert (c1.hidden, c1.deleted, c1.text) == (
        False, True, "How much is shipping to Porto or Faro for the green lamp?")

    replay(aws, *ALL_SAMPLES)

    assert snapshot() == state
    assert dead_letters(aws) == 0
