// Type shims for packages that ship none live in this folder.
// ltx is typed by @types/ltx; @xmpp/client by @types/xmpp__client.
export {};
