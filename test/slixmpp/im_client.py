#!/usr/bin/python3
"""A plain IM client (slixmpp, from Debian) using Warble with no pubsub at all: issue 11.

Only what Conversations, Dino or Monal do: the roster (add a contact, read the roster),
presence, and chat messages. Five users of the users domain D take part:
  alice  the author: posts and runs commands by chatting with her own alice@C;
  bob    an IM follower (adds alice@C to his roster), and runs commands at his own bob@C;
  carol  follows alice@C while her account is locked (pending, then approved);
  erin   is denied, then blocked;
  dave   a stranger who chats with alice@C, and adds C itself as a contact.

Usage: im_client.py PORT USERS_DOMAIN COMPONENT_DOMAIN
(each user's password is NAME-pw). Prints one JSON object with what the clients saw; the
vitest suite test/integration/im-client-slixmpp.test.ts asserts on it. Every wait is bounded
(WAIT seconds) and the whole run has a global timeout: a missing answer is recorded as null
rather than raising, so the JSON shows how far things went.
"""
import asyncio
import json
import sys
import time

from slixmpp import ClientXMPP

WARBLE = "urn:xmpp:warble:0"
DELAY = "urn:xmpp:delay"
ROSTER = "jabber:iq:roster"
WAIT = 10.0  # seconds: the longest wait for one expected stanza
QUIET = 3.0  # seconds: how long "no answer" is watched for
GLOBAL_TIMEOUT = 150.0

result = {}  # what is printed at the end; filled step by step


class Im:
    """One user's IM client: logs every message and presence it receives, in order."""

    def __init__(self, name, domain, port):
        self.name = name
        self.jid = "%s@%s" % (name, domain)
        self.port = port
        self.messages = []  # dicts: from, type, body, reply (Warble's marker), relayed, delay
        self.presences = []  # dicts: from, type, status
        self.sent = {}  # how many chat messages were sent to each address
        self.xmpp = None

    async def login(self):
        """Connect, fetch the roster (as IM clients do), send the initial presence."""
        xmpp = ClientXMPP(self.jid + "/im", self.name + "-pw")
        xmpp["feature_mechanisms"].unencrypted_plain = True
        # Nobody should ask us to subscribe; if they do, do not answer on our behalf.
        xmpp.auto_authorize = None
        xmpp.auto_subscribe = False
        xmpp.add_event_handler("message", self._on_message)
        xmpp.add_event_handler("presence", self._on_presence)
        started = asyncio.get_running_loop().create_future()
        xmpp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
        xmpp.add_event_handler(
            "failed_auth",
            lambda _: started.done() or started.set_exception(RuntimeError(self.jid + ": auth failed")),
        )
        xmpp.connect(("127.0.0.1", self.port), force_starttls=False, disable_starttls=True)
        await asyncio.wait_for(started, WAIT)
        # Prosody tells only "interested" resources (that fetched the roster) of subscription changes.
        await xmpp.get_roster(timeout=WAIT)
        xmpp.send_presence()
        self.xmpp = xmpp

    async def logout(self):
        if self.xmpp is not None:
            await self.xmpp.disconnect(wait=5)
            self.xmpp = None

    def _on_message(self, msg):
        delay = msg.xml.find("{%s}delay" % DELAY)
        self.messages.append({
            "from": msg["from"].bare,
            "type": msg["type"],
            "body": msg["body"],
            "reply": msg.xml.find("{%s}reply" % WARBLE) is not None,
            "relayed": msg.xml.find("{%s}relayed" % WARBLE) is not None,
            # XEP-0203: who delayed it (the server's offline storage names its domain).
            "delay": None if delay is None else delay.get("from", ""),
        })

    def _on_presence(self, pres):
        self.presences.append({
            "from": pres["from"].bare,
            "type": pres["type"],
            "status": pres["status"],
        })

    async def wait_for(self, log, since, match, timeout=WAIT):
        """The first entry of `log` from index `since` on that matches, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in log[since:]:
                if match(entry):
                    return entry
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)

    def replies_from(self, jid):
        """Warble's answers from `jid`: messages marked <reply xmlns='urn:xmpp:warble:0'/>."""
        return [m for m in self.messages if m["from"] == jid and m["reply"]]

    async def chat(self, to, text):
        """Send `text` as a chat message to `to`; the answer's body (None: no answer)."""
        since = len(self.messages)
        self.sent[to] = self.sent.get(to, 0) + 1
        self.xmpp.send_message(mto=to, mbody=text, mtype="chat")
        answer = await self.wait_for(self.messages, since, lambda m: m["from"] == to and m["reply"])
        return None if answer is None else answer["body"]

    def add_contact(self, jid):
        """Add `jid` to the roster the way an IM client does: a presence subscription request."""
        self.xmpp.send_presence(pto=jid, ptype="subscribe")

    async def presence_from(self, since, jid, type_, timeout=WAIT):
        return await self.wait_for(
            self.presences, since, lambda p: p["from"] == jid and p["type"] == type_, timeout)

    async def roster_item(self, jid):
        """The roster item of `jid` as the server has it: subscription and ask (a fresh get)."""
        iq = self.xmpp.make_iq_get(queryxmlns=ROSTER)
        reply = await iq.send(timeout=WAIT)
        for item in reply.xml.find("{%s}query" % ROSTER).findall("{%s}item" % ROSTER):
            if item.get("jid") == jid:
                return {"subscription": item.get("subscription"), "ask": item.get("ask")}
        return None


def presence_view(p):
    return None if p is None else {"type": p["type"], "status": p["status"]}


async def subscribe_and_watch(user, contact):
    """`user` adds `contact`: the `subscribed` answer and the available presence after it."""
    since = len(user.presences)
    user.add_contact(contact)
    subscribed = await user.presence_from(since, contact, "subscribed")
    available = await user.presence_from(since, contact, "available")
    # The order matters: a status before `subscribed` is dropped by the server.
    ordered = None
    if subscribed is not None and available is not None:
        ordered = user.presences.index(subscribed) < user.presences.index(available)
    return {
        "subscribed": subscribed is not None,
        "available": presence_view(available),
        "subscribed_first": ordered,
    }


async def post_and_watch(alice, service, text, followers, wire=None):
    """alice posts `text` by chat (`wire`: the message sent, when not the text itself); what
    each online follower got from alice@C: the chat message and the presence status."""
    marks = {f.name: (len(f.messages), len(f.presences)) for f in followers}
    answer = await alice.chat(service, wire if wire is not None else text)
    seen = {}
    for f in followers:
        m_since, p_since = marks[f.name]
        # The chat message to an IM follower: a post line, not a relay of a home timeline.
        msg = await f.wait_for(
            f.messages, m_since,
            lambda m: m["from"] == service and not m["reply"] and ": %s [" % text in (m["body"] or ""))
        pres = await f.wait_for(
            f.presences, p_since,
            lambda p: p["from"] == service and p["type"] == "available" and p["status"] == text)
        seen[f.name] = {
            "type": None if msg is None else msg["type"],
            "body": None if msg is None else msg["body"],
            "status": None if pres is None else pres["status"],
        }
    return {"answer": answer, "followers": seen}


async def main():
    port, domain, component = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    users = {n: Im(n, domain, port) for n in ("alice", "bob", "carol", "dave", "erin")}
    alice, bob, carol, dave, erin = (users[n] for n in ("alice", "bob", "carol", "dave", "erin"))
    alice_c = "alice@" + component
    started = time.monotonic()
    for u in users.values():
        await u.login()

    # Every command sent to one's own u@C, with its answer, in order: [sender, text, answer].
    commands = result["commands"] = []

    async def command(user, text):
        to = "%s@%s" % (user.name, component)
        answer = await user.chat(to, text)
        commands.append([user.name, text, answer])
        return answer

    # 1. An open account: alice posts, bob adds alice@C and gets subscribed, then her status.
    result["first_post"] = await command(alice, "hello from alice")
    result["bob_subscribes"] = await subscribe_and_watch(bob, alice_c)
    result["bob_roster"] = await bob.roster_item(alice_c)

    # 4 (part). bob follows alice from his own bob@C (the home timeline: timeline, reply, repost).
    result["bob_follow"] = await command(bob, "follow alice@" + domain)
    result["bob_following"] = await command(bob, "following")
    result["alice_help"] = await command(alice, "help")

    # 2. A locked account: carol and erin add alice@C and get no answer; alice is told.
    result["lock"] = await command(alice, "lock")
    asks = {}
    for u in (carol, erin):
        p_since, m_since = len(u.presences), len(alice.messages)
        u.add_contact(alice_c)
        told = await alice.wait_for(
            alice.messages, m_since,
            lambda m, who=u.jid: m["from"] == alice_c and who in (m["body"] or "")
            and "asks to follow" in (m["body"] or ""))
        # Any answer from alice@C (subscribed, unsubscribed, a status) would end the request.
        await asyncio.sleep(QUIET)
        answered = [p for p in u.presences[p_since:] if p["from"] == alice_c]
        asks[u.name] = {
            "answers": [presence_view(p) for p in answered],
            "roster": await u.roster_item(alice_c),
            "owner_told": None if told is None else told["body"],
        }
    result["locked_requests"] = asks
    result["pending"] = await command(alice, "pending")

    since = len(carol.presences)
    result["approve"] = await command(alice, "approve carol@" + domain)
    subscribed = await carol.presence_from(since, alice_c, "subscribed")
    available = await carol.presence_from(since, alice_c, "available")
    result["carol_approved"] = {
        "subscribed": subscribed is not None,
        "available": presence_view(available),
        "roster": await carol.roster_item(alice_c),
    }

    since = len(erin.presences)
    result["deny"] = await command(alice, "deny erin@" + domain)
    result["erin_denied"] = presence_view(await erin.presence_from(since, alice_c, "unsubscribed"))

    # block / unblock: a blocked JID asking again is refused (unsubscribed), not left pending.
    result["block"] = await command(alice, "block erin@" + domain)
    since = len(erin.presences)
    erin.add_contact(alice_c)
    result["erin_blocked"] = presence_view(await erin.presence_from(since, alice_c, "unsubscribed"))
    result["unblock"] = await command(alice, "unblock erin@" + domain)
    result["unlock"] = await command(alice, "unlock")
    result["followers"] = await command(alice, "followers")

    # 3. Posts: every IM follower (bob, carol) gets a chat message and alice@C's new status.
    result["posts"] = [
        await post_and_watch(alice, alice_c, "the second post", [bob, carol]),
        # A text that starts with " is posted as it is (without the quote), even if a command.
        await post_and_watch(alice, alice_c, "follow me", [bob, carol], wire='"follow me'),
        await post_and_watch(alice, alice_c, "help", [bob, carol], wire="post help"),
    ]

    # 4. bob's commands at bob@C: timeline, reply, repost, last, the relay, help, unfollow.
    result["timeline_3"] = await command(bob, "timeline 3")
    lines = (result["timeline_3"] or "").split("\n")
    chosen = next((l for l in lines if "the second post" in l), lines[-1])
    short_id = chosen[-7:-1] if chosen.endswith("]") else "xxxxxx"
    result["short_id"] = short_id
    result["reply"] = await command(bob, "reply %s nice" % short_id)
    result["repost"] = await command(bob, "repost %s" % short_id)
    result["timeline_2"] = await command(bob, "Timeline 2")
    result["last_alice"] = await command(bob, "last alice@" + domain)
    result["help_slash"] = await command(bob, "/HELP  ")
    result["off"] = await command(bob, "off")
    result["on"] = await command(bob, "on")
    result["unfollow"] = await command(bob, "unfollow alice@" + domain)
    result["following_after"] = await command(bob, "following")

    # 4. alice deletes her newest post ("help").
    result["delete_last"] = await command(alice, "delete last")
    result["last_after_delete"] = await command(alice, "last alice@" + domain)

    # 5. An unknown command: a hint, and nothing posted.
    result["unknown"] = await command(alice, "/frobnicate")
    result["last_after_unknown"] = await command(alice, "last alice@" + domain)

    # 6. dave, a stranger, chats with alice@C twice: one explanation, nothing posted.
    first = await dave.chat(alice_c, "hi alice, dave here")
    dave.xmpp.send_message(mto=alice_c, mbody="second try", mtype="chat")
    await asyncio.sleep(QUIET)
    result["stranger"] = {
        "answer": first,
        "answers": len(dave.replies_from(alice_c)),
        "last_after": await command(alice, "last alice@" + domain),
    }

    # 7. C itself as a contact: subscribed, available; help by chat.
    result["desk_subscribe"] = await subscribe_and_watch(dave, component)
    result["desk_help"] = await dave.chat(component, "help")

    # Every command above was answered by exactly one chat message from one's own u@C.
    result["answers_per_user"] = {
        u.name: {
            "sent": u.sent.get("%s@%s" % (u.name, component), 0),
            "answers": len(u.replies_from("%s@%s" % (u.name, component))),
            "types": sorted({m["type"] for m in u.replies_from("%s@%s" % (u.name, component))}),
        }
        for u in (alice, bob)
    }

    # 8. Offline delivery: bob goes offline, alice posts, bob logs in again.
    await bob.logout()
    await asyncio.sleep(1)  # the server has ended bob's session
    result["offline_post"] = await post_and_watch(alice, alice_c, "while you were away", [carol])
    await asyncio.sleep(1)  # Warble's message to bob has reached the server's offline store
    back = Im("bob", domain, port)
    await back.login()
    got = await back.wait_for(
        back.messages, 0,
        lambda m: m["from"] == alice_c and "while you were away" in (m["body"] or ""))
    # On login the server probes bob's contacts: alice@C answers with her status.
    probed = await back.wait_for(
        back.presences, 0,
        lambda p: p["from"] == alice_c and p["type"] == "available")
    result["offline"] = {
        "message": got,
        "copies": sum(1 for m in back.messages if m["body"] == (got or {}).get("body")),
        "probe_answer": presence_view(probed),
    }
    await back.logout()
    for u in (alice, carol, dave, erin):
        await u.logout()
    result["seconds"] = round(time.monotonic() - started, 1)


async def run():
    try:
        await asyncio.wait_for(main(), GLOBAL_TIMEOUT)
    except Exception as err:  # noqa: BLE001 - reported in the JSON, asserted on by the suite
        result["error"] = "%s: %s" % (type(err).__name__, err)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(run())
