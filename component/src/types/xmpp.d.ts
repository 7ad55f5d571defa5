// Local declarations for the @xmpp packages that ship no types (see DESIGN.md: shims live here).
declare module "ltx" {
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined>);
    name: string;
    attrs: Record<string, string>;
    children: Array<Element | string>;
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string, xmlns?: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string | null): string | null;
    getText(): string;
    text(): string;
    text(value: string): Element;
    attr(name: string): string | undefined;
    attr(name: string, value: string | number | null | undefined): Element;
    c(name: string, attrs?: Record<string, string | number | undefined>): Element;
    cnode<T extends Element>(child: T): T;
    t(text: string): Element;
    up(): Element;
    root(): Element;
    append(...nodes: Array<Element | string>): Element;
    remove(el: Element | string, xmlns?: string): Element;
    clone(): Element;
    toString(): string;
  }
  export type Node = Element | string;
  export function createElement(
    name: string,
    attrs?: Record<string, string | number | undefined> | null,
    ...children: Array<Node | Node[] | undefined | null | false>
  ): Element;
  export function parse(data: string): Element;
  export function escapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
}

declare module "@xmpp/component" {
  import type { Element } from "ltx";
  import type { EventEmitter } from "node:events";

  export interface IqContext {
    stanza: Element;
    element: Element;
    from: { toString(): string; bare(): { toString(): string } } | null;
    to: { toString(): string; bare(): { toString(): string }; local: string } | null;
    id: string;
  }
  type IqHandler = (ctx: IqContext) => Element | Promise<Element | undefined> | undefined | boolean;

  export interface Component extends EventEmitter {
    status: string;
    jid: { toString(): string } | null;
    options: { service: string; domain: string };
    timeout: number;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    sendMany(els: Element[]): Promise<void>;
    reconnect: { delay: number; stop(): void; start(): void } & EventEmitter;
    middleware: { use(fn: (ctx: IqContext, next: () => Promise<unknown>) => unknown): void };
    iqCaller: {
      request(el: Element, timeout?: number): Promise<Element>;
      get(el: Element, to?: string, timeout?: number): Promise<Element>;
      set(el: Element, to?: string, timeout?: number): Promise<Element>;
    };
    iqCallee: {
      get(ns: string, name: string, handler: IqHandler): void;
      set(ns: string, name: string, handler: IqHandler): void;
    };
  }
  export function component(options: {
    service: string;
    domain: string;
    password: string;
  }): Component;
}
