#!/usr/bin/python3
"""An independent XMPP client (slixmpp, from Debian) driving Warble's main microblog flows.

Usage: microblog_flow.py PORT USERS_DOMAIN COMPONENT_DOMAIN OWNER PASSWORD READER PASSWORD
Prints one JSON object with what it saw; the vitest suite asserts on it.
"""
import asyncio
import json
import sys

from slixmpp import ClientXMPP
from slixmpp.xmlstream import ET

ATOM = "http://www.w3.org/2005/Atom"
PUBSUB = "http://jabber.org/protocol/pubsub"
EVENT = "http://jabber.org/protocol/pubsub#event"
RSM = "http://jabber.org/protocol/rsm"
NODE = "urn:xmpp:microblog:0"


def make_client(jid, password):
    xmpp = ClientXMPP(jid, password)
    xmpp.register_plugin("xep_0030")
    xmpp.register_plugin("xep_0059")
    xmpp.register_plugin("xep_0060")
    xmpp["feature_mechanisms"].unencrypted_plain = True
    return xmpp


async def login(xmpp, port):
    started = asyncio.get_running_loop().create_future()
    xmpp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
    xmpp.add_event_handler("failed_auth", lambda _: started.done() or started.set_exception(RuntimeError("auth failed")))
    xmpp.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(started, 10)
    xmpp.send_presence()


def atom_entry(text):
    entry = ET.Element("{%s}entry" % ATOM)
    title = ET.SubElement(entry, "{%s}title" % ATOM)
    title.set("type", "text")
    title.text = text
    return entry


def item_titles(pubsub_el):
    items = pubsub_el.find("{%s}items" % PUBSUB)
    out = []
    for item in items.findall("{%s}item" % PUBSUB):
        out.append({"id": item.get("id"), "title": item.findtext("{%s}entry/{%s}title" % (ATOM, ATOM))})
    return out


async def rsm_page(xmpp, service, max_, after=None):
    iq = xmpp.make_iq_get(ito=service)
    pubsub = ET.SubElement(iq.xml, "{%s}pubsub" % PUBSUB)
    ET.SubElement(pubsub, "{%s}items" % PUBSUB, {"node": NODE})
    rsm = ET.SubElement(pubsub, "{%s}set" % RSM)
    ET.SubElement(rsm, "{%s}max" % RSM).text = str(max_)
    if after:
        ET.SubElement(rsm, "{%s}after" % RSM).text = after
    reply = await iq.send(timeout=10)
    pubsub_el = reply.xml.find("{%s}pubsub" % PUBSUB)
    set_el = pubsub_el.find("{%s}set" % RSM)
    return {
        "items": item_titles(pubsub_el),
        "count": int(set_el.findtext("{%s}count" % RSM)),
        "last": set_el.findtext("{%s}last" % RSM),
    }


async def main():
    port, users_domain, component, owner, owner_pw, reader, reader_pw = sys.argv[1:8]
    port = int(port)
    service = "%s@%s" % (owner, component)
    alice = make_client("%s@%s/slix" % (owner, users_domain), owner_pw)
    bob = make_client("%s@%s/slix" % (reader, users_domain), reader_pw)
    events, bodies, retracts = [], [], []
    got_five = asyncio.get_running_loop().create_future()
    got_retract = asyncio.get_running_loop().create_future()

    def on_message(msg):
        if msg["from"].bare != service:
            return
        event = msg.xml.find("{%s}event" % EVENT)
        if event is None:
            return
        items = event.find("{%s}items" % EVENT)
        for item in items.findall("{%s}item" % EVENT):
            events.append(item.findtext("{%s}entry/{%s}title" % (ATOM, ATOM)))
            bodies.append(msg["body"])
        if len(events) >= 5 and not got_five.done():
            got_five.set_result(True)

    def on_retract(msg):
        # slixmpp's own pubsub event for <retract/> (its "message" event needs a <body>).
        if msg["from"].bare == service:
            retracts.append(msg["pubsub_event"]["items"]["retract"]["id"])
            if not got_retract.done():
                got_retract.set_result(True)

    bob.add_event_handler("message", on_message)
    bob.add_event_handler("pubsub_retract", on_retract)
    await login(alice, port)
    await login(bob, port)
    result = {}

    # The first post creates the node; bob then subscribes and gets it as the last published item.
    ids = []

    async def publish(n):
        reply = await alice["xep_0060"].publish(service, NODE, payload=atom_entry("post %d" % n), timeout=10)
        ids.append(reply["pubsub"]["publish"]["item"]["id"])

    await publish(1)
    sub = await bob["xep_0060"].subscribe(service, NODE, timeout=10)
    result["subscription"] = sub["pubsub"]["subscription"]["subscription"]
    for n in range(2, 6):
        await publish(n)
    result["published_ids"] = ids

    await asyncio.wait_for(got_five, 10)
    result["notifications"] = events
    result["bodies"] = bodies

    latest = await bob["xep_0060"].get_items(service, NODE, max_items=2, timeout=10)
    result["max_items_2"] = item_titles(latest.xml.find("{%s}pubsub" % PUBSUB))

    first = await rsm_page(bob, service, 2)
    second = await rsm_page(bob, service, 2, first["last"])
    result["rsm_pages"] = [first, second]

    await alice["xep_0060"].retract(service, NODE, ids[-1], notify=True, timeout=10)
    await asyncio.wait_for(got_retract, 10)
    result["retracted"] = retracts
    after = await bob["xep_0060"].get_items(service, NODE, timeout=10)
    result["after_retract"] = [i["title"] for i in item_titles(after.xml.find("{%s}pubsub" % PUBSUB))]

    alice.disconnect()
    bob.disconnect()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), 60))
