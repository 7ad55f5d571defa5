/** XML namespaces Warble speaks, one constant each. */
export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
export const NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event";
export const NS_PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner";
export const NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors";
export const NS_PUBSUB_NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config";
export const NS_PUBSUB_SUBSCRIBE_OPTIONS = "http://jabber.org/protocol/pubsub#subscribe_options";
export const NS_PUBSUB_SUBSCRIBE_AUTHORIZATION =
  "http://jabber.org/protocol/pubsub#subscribe_authorization";
export const NS_PUBSUB_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options";
export const NS_PUBSUB_META_DATA = "http://jabber.org/protocol/pubsub#meta-data";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_COMMANDS = "http://jabber.org/protocol/commands";
export const NS_DATA_FORMS = "jabber:x:data";
export const NS_RSM = "http://jabber.org/protocol/rsm";
export const NS_PING = "urn:xmpp:ping";
export const NS_VERSION = "jabber:iq:version";
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
export const NS_ATOM = "http://www.w3.org/2005/Atom";
export const NS_THREADING = "http://purl.org/syndication/thread/1.0";
export const NS_MICROBLOG = "urn:xmpp:microblog:0";
export const NS_MAM = "urn:xmpp:mam:2";
export const NS_DELAY = "urn:xmpp:delay";
/** XEP-0334 message processing hints (`<store/>`). */
export const NS_HINTS = "urn:xmpp:hints";
export const NS_FORWARD = "urn:xmpp:forward:0";
export const NS_COMPONENT = "jabber:component:accept";
