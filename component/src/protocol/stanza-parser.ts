/**
 * The stream parser under the component connection: ltx's SAX parser, building one element tree
 * per stanza with limits. A stanza nested deeper than `maxDepth` or longer than `maxChars` is not
 * built beyond its first levels: it is handed on as "refused" (with what was kept and why), so
 * that it can be answered with an error and no handler ever walks a tree that would exhaust the
 * stack or memory. The server's own stanza size limit is not enough: 20,000 nested elements fit
 * in 140 KB.
 */
import { EventEmitter } from "node:events";
import SaxLtx from "ltx/lib/parsers/ltx.js";
import { Element } from "../../../schemas/src/xml.js";

export interface StanzaLimits {
  /** Elements nested in a stanza, the stanza itself being 1 (default 64). */
  maxDepth: number;
  /** Characters of names, attributes and text in one stanza (default 192 KiB). */
  maxChars: number;
}

export const DEFAULT_STANZA_LIMITS: StanzaLimits = { maxDepth: 64, maxChars: 192 * 1024 };

export type RefusalKind = "depth" | "size";

/**
 * Events: "start" (the stream's root), "element" (a whole stanza), "refused" (the stanza's first
 * levels, RefusalKind), "end" (the stream closed), "error" (bad XML).
 */
export class StanzaParser extends EventEmitter {
  private readonly sax = new SaxLtx();
  private root: Element | null = null;
  /** The stanza being read, and the deepest element of it that was built. */
  private stanza: Element | null = null;
  private cursor: Element | null = null;
  private depth = 0;
  private builtDepth = 0;
  private chars = 0;
  private refusal: RefusalKind | null = null;

  constructor(private readonly limits: StanzaLimits = DEFAULT_STANZA_LIMITS) {
    super();
    this.sax.on("startElement", (name: string, attrs: Record<string, string>) =>
      this.onStart(name, attrs),
    );
    this.sax.on("endElement", (name: string) => this.onEnd(name));
    this.sax.on("text", (text: string) => this.onText(text));
  }

  write(data: string): void {
    try {
      this.sax.write(data);
    } catch (err) {
      // ltx throws on a character reference that names no XML character.
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onStart(name: string, attrs: Record<string, string>): void {
    if (!this.root) {
      this.root = new Element(name, attrs);
      this.emit("start", this.root);
      return;
    }
    this.depth++;
    let cost = name.length;
    for (const k in attrs) cost += k.length + (attrs[k]?.length ?? 0);
    if (this.depth === 1) {
      this.stanza = new Element(name, attrs);
      this.cursor = this.stanza;
      this.builtDepth = 1;
      this.chars = cost;
      this.refusal = cost > this.limits.maxChars ? "size" : null;
      return;
    }
    this.chars += cost;
    if (!this.refusal && this.depth > this.limits.maxDepth) this.refusal = "depth";
    if (!this.refusal && this.chars > this.limits.maxChars) this.refusal = "size";
    if (this.refusal || !this.cursor) return;
    const el = new Element(name, attrs);
    this.cursor.append(el);
    this.cursor = el;
    this.builtDepth = this.depth;
  }

  private onEnd(name: string): void {
    if (this.depth === 0) {
      this.emit("end", this.root);
      return;
    }
    if (this.builtDepth === this.depth && this.cursor) {
      if (this.cursor.name !== name) {
        this.emit("error", new Error(`<${this.cursor.name}> closed by </${name}>`));
        return;
      }
      this.cursor = this.cursor.parent;
      this.builtDepth--;
    }
    this.depth--;
    if (this.depth > 0) return;
    const stanza = this.stanza as Element;
    this.stanza = null;
    this.cursor = null;
    if (this.refusal) this.emit("refused", stanza, this.refusal);
    else this.emit("element", stanza);
  }

  private onText(text: string): void {
    // Whitespace between stanzas (keepalives) belongs to no stanza.
    if (this.depth === 0) return;
    this.chars += text.length;
    if (!this.refusal && this.chars > this.limits.maxChars) this.refusal = "size";
    if (!this.refusal && this.builtDepth === this.depth) this.cursor?.t(text);
  }
}
