// Type shims for packages that ship none live in this folder.
// ltx and @xmpp/xml are typed by @types/ltx and @types/xmpp__xml; @xmpp/client by @types/xmpp__client.
export {};
