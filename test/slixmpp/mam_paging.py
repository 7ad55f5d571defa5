#!/usr/bin/python3
"""An independent XMPP client (slixmpp, from Debian) reading Warble's home timeline by MAM.

Usage: mam_paging.py PORT USERS_DOMAIN COMPONENT_DOMAIN OWNER PASSWORD OTHER PASSWORD

The owner publishes 25 posts to its own microblog (u@C), which puts them in its own home
timeline, then reads that timeline with slixmpp's XEP-0313 plugin (urn:xmpp:mam:2): forward in
pages of 10 with the RSM iterator, backwards from the end, with start/end and with filters; the
other user's query at the owner's u@C must be refused with forbidden.

Prints one JSON object with what it saw (the vitest suite asserts on it) and exits non-zero when
anything differs from what XEP-0313 / XEP-0059 and Warble's timeline promise ("problems" lists
what).
"""
import asyncio
import datetime as dt
import json
import sys

import slixmpp
from slixmpp import JID, ClientXMPP
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

ATOM = "http://www.w3.org/2005/Atom"
EVENT = "http://jabber.org/protocol/pubsub#event"
MAM = "urn:xmpp:mam:2"
NODE = "urn:xmpp:microblog:0"
POSTS = 25
PAGE = 10

problems = []


def check(ok, what):
    if not ok:
        problems.append(what)
    return ok


def make_client(jid, password):
    xmpp = ClientXMPP(jid, password)
    for plugin in ("xep_0030", "xep_0059", "xep_0060", "xep_0297", "xep_0313"):
        xmpp.register_plugin(plugin)
    xmpp["feature_mechanisms"].unencrypted_plain = True
    return xmpp


async def login(xmpp, port):
    started = asyncio.get_running_loop().create_future()
    xmpp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
    xmpp.add_event_handler(
        "failed_auth",
        lambda _: started.done() or started.set_exception(RuntimeError("auth failed")),
    )
    xmpp.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(started, 10)
    xmpp.send_presence()


def atom_entry(text):
    entry = ET.Element("{%s}entry" % ATOM)
    title = ET.SubElement(entry, "{%s}title" % ATOM)
    title.set("type", "text")
    title.text = text
    return entry


def now():
    return dt.datetime.now(dt.timezone.utc)


def describe(msg):
    """One MAM result message, read through slixmpp's stanza interfaces."""
    result = msg["mam_result"]
    forwarded = result["forwarded"]
    inner = forwarded["stanza"]
    items = inner.xml.find("{%s}event/{%s}items" % (EVENT, EVENT))
    item = items.find("{%s}item" % EVENT) if items is not None else None
    stamp = forwarded["delay"]["stamp"]
    return {
        "mam_id": result["id"],
        "queryid": result["queryid"],
        "from": str(msg["from"]),
        "stamp": stamp.isoformat() if stamp else None,
        "inner_from": str(inner["from"]),
        "inner_type": inner["type"],
        "node": items.get("node") if items is not None else None,
        "item_id": item.get("id") if item is not None else None,
        "title": item.findtext("{%s}entry/{%s}title" % (ATOM, ATOM)) if item is not None else None,
        "body": inner["body"],
    }


def describe_page(iq):
    """An IQ result with <fin/>: its RSM set, `complete`, and the results slixmpp collected."""
    fin = iq["mam_fin"]
    rsm = fin["rsm"]
    count = rsm["count"]
    first_index = rsm["first_index"]
    return {
        "titles": [describe(m)["title"] for m in fin["results"]],
        "ids": [m["mam_result"]["id"] for m in fin["results"]],
        "first": rsm["first"] or None,
        "first_index": int(first_index) if first_index not in (None, "") else None,
        "last": rsm["last"] or None,
        "count": int(count) if count not in (None, "") else None,
        "complete": fin.xml.get("complete") in ("true", "1"),
    }


async def pages(xmpp, service, reverse=False, **filters):
    """Page with slixmpp's RSM iterator over the MAM query (retrieve(iterator=True))."""
    out = []
    iterator = xmpp["xep_0313"].retrieve(
        jid=service, iterator=True, reverse=reverse, rsm={"max": PAGE}, **filters
    )
    async for iq in iterator:
        out.append(describe_page(iq))
        if len(out) > POSTS:  # a runaway iterator
            check(False, "the iterator did not stop")
            break
    return out


async def one_query(xmpp, service, rsm=None, **filters):
    """A single MAM query (retrieve without iterator): the page it answers."""
    iq = await xmpp["xep_0313"].retrieve(jid=service, rsm=rsm or {"max": 50}, timeout=10, **filters)
    page = describe_page(iq)
    # Without the iterator slixmpp puts the collected results on iq['mam'] only.
    page["titles"] = [describe(m)["title"] for m in iq["mam"]["results"]]
    page["ids"] = [m["mam_result"]["id"] for m in iq["mam"]["results"]]
    return page


async def backward_pages(xmpp, service):
    """Page backwards from the end with the iterator (reverse=True), then on by hand if need be.

    slixmpp's ResultIterator (1.8) stops once first_index + len(page) == count, a test that only
    means "done" going forward: backwards, the very first page (the last 10 of 25, index 15)
    already meets it. Where it stopped early, go on with retrieve() and RSM before=<first>.
    """
    out = await pages(xmpp, service, reverse=True)
    iterator_pages = len(out)
    while out and not out[-1]["complete"] and out[-1]["first"] and len(out) <= POSTS:
        out.append(await one_query(xmpp, service, rsm={"max": PAGE, "before": out[-1]["first"]}))
    return out, iterator_pages


def titles(numbers):
    return ["post %d" % n for n in numbers]


async def main():
    port, users_domain, component, owner, owner_pw, other, other_pw = sys.argv[1:8]
    port = int(port)
    owner_bare = "%s@%s" % (owner, users_domain)
    service = JID("%s@%s" % (owner, component))
    alice = make_client("%s/slix" % owner_bare, owner_pw)
    bob = make_client("%s@%s/slix" % (other, users_domain), other_pw)
    await login(alice, port)
    await login(bob, port)
    result = {"slixmpp": slixmpp.__version__}

    # 25 posts; marks taken between posts 10/11 and 20/21 (the posts enter the timeline in the
    # publish's transaction, so each one's arrival time lies between its request and its reply).
    published = []
    marks = {}
    for n in range(1, POSTS + 1):
        if n in (11, 21):
            await asyncio.sleep(0.05)
            marks[n] = now()
            await asyncio.sleep(0.05)
        reply = await alice["xep_0060"].publish(service, NODE, payload=atom_entry("post %d" % n), timeout=10)
        published.append(reply["pubsub"]["publish"]["item"]["id"])
    result["published"] = len(published)
    check(len(set(published)) == POSTS, "published ids are not distinct")

    # Forward, pages of 10 with the iterator: 3 pages, 25 results in publish order, each once.
    forward = await pages(alice, service)
    result["forward_pages"] = forward
    fwd_titles = [t for p in forward for t in p["titles"]]
    fwd_ids = [i for p in forward for i in p["ids"]]
    check(len(forward) == 3, "forward: %d pages, expected 3" % len(forward))
    check([len(p["titles"]) for p in forward] == [10, 10, 5], "forward: page sizes")
    check(fwd_titles == titles(range(1, POSTS + 1)), "forward: not the posts in publish order")
    check(len(set(fwd_ids)) == POSTS, "forward: MAM ids not distinct")
    check([p["count"] for p in forward] == [POSTS] * 3, "forward: count")
    check([p["first_index"] for p in forward] == [0, 10, 20], "forward: first index")
    check([p["complete"] for p in forward] == [False, False, True], "forward: complete")
    check(all(p["first"] == p["ids"][0] and p["last"] == p["ids"][-1] for p in forward),
          "forward: RSM first/last are not the page's first/last MAM ids")

    # The same stream message by message with the plugin's iterate() (slixmpp >= 1.8).
    streamed = []
    async for msg in alice["xep_0313"].iterate(jid=service, rsm={"max": PAGE}):
        streamed.append(describe(msg))
    result["iterate_first"] = streamed[0] if streamed else None
    check([m["title"] for m in streamed] == titles(range(1, POSTS + 1)), "iterate: order")
    check([m["item_id"] for m in streamed] == published, "iterate: item ids are not the published ids")
    check(all(m["from"] == str(service) and m["inner_from"] == str(service) for m in streamed),
          "iterate: results not from the service")
    check(all(m["inner_type"] == "headline" and m["node"] == NODE for m in streamed),
          "iterate: forwarded message is not the headline event of the microblog node")
    check([m["body"] for m in streamed] == ["%s: post %d" % (owner_bare, n) for n in range(1, POSTS + 1)],
          "iterate: bodies")
    check(all(m["stamp"] for m in streamed), "iterate: a result without delay stamp")

    # Backwards from the end: <before/> empty is the last page, then before=<first> of each page.
    backward, iterator_pages = await backward_pages(alice, service)
    result["backward_pages"] = backward
    result["backward_iterator_pages"] = iterator_pages
    check([p["titles"] for p in backward] == [titles(range(16, 26)), titles(range(6, 16)), titles(range(1, 6))],
          "backward: pages (each oldest first, newest page first)")
    check([p["first_index"] for p in backward] == [15, 5, 0], "backward: first index")
    check([p["count"] for p in backward] == [POSTS] * 3, "backward: count")
    check([p["complete"] for p in backward] == [False, False, True], "backward: complete")
    check([i for p in reversed(backward) for i in p["ids"]] == fwd_ids, "backward: ids differ from forward")

    # Explicit RSM ids: after the 10th, before the 11th.
    after10 = await one_query(alice, service, rsm={"max": 3, "after": fwd_ids[9]})
    before11 = await one_query(alice, service, rsm={"max": 3, "before": fwd_ids[10]})
    result["after_10th"] = after10["titles"]
    result["before_11th"] = before11["titles"]
    check(after10["titles"] == titles([11, 12, 13]), "after: page")
    check(before11["titles"] == titles([8, 9, 10]), "before: page")

    # Filters: start/end (arrival time, inclusive), with (the post's service or author).
    m11, m21 = marks[11], marks[21]
    window = await one_query(alice, service, start=m11, end=m21)
    from_21 = await one_query(alice, service, start=m21)
    until_10 = await one_query(alice, service, end=m11)
    with_service = await one_query(alice, service, with_jid=service)
    with_author = await one_query(alice, service, with_jid=JID(owner_bare))
    with_other = await one_query(alice, service, with_jid=JID("%s@%s" % (other, users_domain)))
    with_and_start = await one_query(alice, service, with_jid=service, start=m21)
    window_paged = await pages(alice, service, start=m11, end=m21)
    result["filters"] = {
        "start_end": window,
        "start": from_21["titles"],
        "end": until_10["titles"],
        "with_service": len(with_service["titles"]),
        "with_author": len(with_author["titles"]),
        "with_other": with_other,
        "with_and_start": with_and_start["titles"],
        "start_end_pages": [p["titles"] for p in window_paged],
    }
    check(window["titles"] == titles(range(11, 21)) and window["count"] == 10 and window["complete"],
          "start/end: posts 11-20")
    check(from_21["titles"] == titles(range(21, 26)), "start: posts 21-25")
    check(until_10["titles"] == titles(range(1, 11)), "end: posts 1-10")
    check(with_service["titles"] == titles(range(1, 26)), "with service: all posts")
    check(with_author["titles"] == titles(range(1, 26)), "with author: all posts")
    check(with_other["titles"] == [] and with_other["count"] == 0 and with_other["complete"],
          "with another JID: nothing, complete")
    check(with_and_start["titles"] == titles(range(21, 26)), "with + start")
    check([p["titles"] for p in window_paged] == [titles(range(11, 21))], "start/end paged: one page")

    # Anyone else querying the owner's timeline is refused.
    try:
        await bob["xep_0313"].retrieve(jid=service, rsm={"max": PAGE}, timeout=10)
        result["other_user"] = {"error": None}
    except IqError as err:
        result["other_user"] = {"error": err.iq["error"]["condition"], "type": err.iq["error"]["type"]}
    check(result["other_user"]["error"] == "forbidden", "other user: not forbidden")
    # ... and reads its own (empty) timeline.
    own = await one_query(bob, JID("%s@%s" % (other, component)))
    result["other_own_timeline"] = {"count": own["count"], "complete": own["complete"], "titles": own["titles"]}
    check(own["titles"] == [] and own["complete"], "other user's own timeline: not empty and complete")

    alice.disconnect()
    bob.disconnect()
    result["problems"] = problems
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(asyncio.wait_for(main(), 60)))
