import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDataForm } from "../../../schemas/src/data-form.js";
import {
  buildMamFieldsForm,
  buildMamFin,
  buildMamQuery,
  buildMamResult,
  formatDateTime,
  type MamQuery,
  MamQueryError,
  parseDateTime,
  parseMamFin,
  parseMamQuery,
  parseMamResult,
} from "../../../schemas/src/mam.js";
import { NS_DATA_FORMS, NS_FORWARD, NS_MAM, NS_RSM } from "../../../schemas/src/ns.js";
import { type Element, parseXml, xml } from "../../../schemas/src/xml.js";
import { canonical } from "./fixtures.js";

/** The stanzas of one XEP-0313 example, copied verbatim from the spec text. */
function stanzas(example: string): Element[] {
  return parseXml(`<fixture>${example}</fixture>`).getChildElements();
}

function first(example: string): Element {
  const el = stanzas(example)[0];
  if (!el) throw new Error("example holds no stanza");
  return el;
}

function queryIn(example: string): Element {
  const query = first(example).getChild("query", NS_MAM);
  if (!query) throw new Error("no MAM query");
  return query;
}

/** The MamQueryError `run` throws (fails the test when it throws nothing or something else). */
function mamError(run: () => unknown): MamQueryError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(MamQueryError);
    return err as MamQueryError;
  }
  throw new Error("expected a MamQueryError");
}

// ---- XEP-0313 (version in /work/shared/specs) examples, verbatim ----

const EX_QUERY_F27 = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2' queryid='f27' />
</iq>`;

const EX_RESULT_F27 = `<message id='aeb213' to='juliet@capulet.lit/chamber'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
      <message xmlns='jabber:client' from="witch@shakespeare.lit" to="macbeth@shakespeare.lit">
        <body>Hail to thee</body>
      </message>
    </forwarded>
  </result>
</message>`;

const EX_FIN_F27 = `<iq type='result' id='juliet1'>
  <fin xmlns='urn:xmpp:mam:2'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>28482-98726-73623</first>
      <last>09af3-cc343-b409f</last>
    </set>
  </fin>
</iq>`;

const EX_QUERY_F28 = `<iq to='pubsub.shakespeare.lit' type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2' queryid='f28' />
</iq>
`;

const EX_QUERY_WITH = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='with'>
        <value>juliet@capulet.lit</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_TIMESPAN = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='start'>
        <value>2010-06-07T00:00:00Z</value>
      </field>
      <field var='end'>
        <value>2010-07-07T13:23:54Z</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_AFTER_TIME = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='start'>
        <value>2010-08-07T00:00:00Z</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_AFTER_ID = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='after-id'>
        <value>09af3-cc343-b409f</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_BETWEEN_IDS = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='after-id'>
        <value>28482-98726-73623</value>
      </field>
      <field var='before-id'>
        <value>09af3-cc343-b409f</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_IDS = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='ids'>
        <value>28482-98726-73623</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_QUERY_GROUPCHAT_TRUE = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='include-groupchat'>
        <value>true</value>
      </field>
      ...
    </x>
  </query>
</iq>
`;

const EX_QUERY_GROUPCHAT_FALSE = `<iq type='set' id='juliet1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='include-groupchat'>
        <value>false</value>
      </field>
      ...
    </x>
  </query>
</iq>
`;

const EX_FIELDS_GET = `<iq type='get' id='form1'>
  <query xmlns='urn:xmpp:mam:2'/>
</iq>
`;

const EX_FIELDS_RESULT = `<iq type='result' id='form1'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='form'>
      <field type='hidden' var='FORM_TYPE'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field type='jid-single' var='with'/>
      <field type='text-single' var='start'/>
      <field type='text-single' var='end'/>
      <field type='text-single' var='before-id'/>
      <field type='text-single' var='after-id'/>
      <field type='list-multi' var='ids'>
        <validate xmlns="http://jabber.org/protocol/xdata-validate" datatype="xs:string">
          <open/>
        </validate>
      </field>
      <field type='boolean' var='include-groupchat'/>
      <field type='text-single' var='{http://example.com/}free-text-search'/>
      <field type='text-single' var='{http://example.com/}stanza-content'/>
    </x>
  </query>
</iq>
`;

const EX_QUERY_CUSTOM_FIELDS = `<iq type='set' id='query4'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field type='hidden' var='FORM_TYPE'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field type='text-single' var='{http://example.com/}free-text-search'>
        <value>Where arth thou, my Juliet?</value>
      </field>
      <field type='text-single' var='{http://example.com/}stanza-content'>
        <value>{http://jabber.org/protocol/mood}mood/lonely</value>
      </field>
    </x>
  </query>
</iq>
`;

const EX_RESULTS_TWO = `<message id='aeb213' to='juliet@capulet.lit/chamber'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
      <message xmlns='jabber:client'
               to='juliet@capulet.lit/balcony'
               from='romeo@montague.lit/orchard'
               type='chat'>
        <body>Call me but love, and I'll be new baptized; Henceforth I never will be Romeo.</body>
      </message>
    </forwarded>
  </result>
</message>

<message id='aeb214' to='juliet@capulet.lit/chamber'>
  <result xmlns='urn:xmpp:mam:2' queryid='f27' id='5d398-28273-f7382'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:09:32Z'/>
      <message xmlns='jabber:client'
               to='romeo@montague.lit/orchard'
               from='juliet@capulet.lit/balcony'
               type='chat' id='8a54s'>
        <body>What man art thou that thus bescreen'd in night so stumblest on my counsel?</body>
      </message>
    </forwarded>
  </result>
</message>
`;

const EX_QUERY_RSM = `<iq type='set' id='q29302'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:mam:2</value>
      </field>
      <field var='start'>
        <value>2010-08-07T00:00:00Z</value>
      </field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
    </set>
  </query>
</iq>
`;

const EX_FIN_LIMITED = `<!-- result messages -->
<iq type='result' id='q29302'>
  <fin xmlns='urn:xmpp:mam:2'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>28482-98726-73623</first>
      <last>09af3-cc343-b409f</last>
      <count>20</count>
    </set>
  </fin>
</iq>
`;

const EX_QUERY_PAGE = `<iq type='set' id='q29303'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <after>09af3-cc343-b409f</after>
    </set>
  </query>
</iq>
`;

const EX_FIN_COMPLETE = `<!-- result messages -->
<iq type='result' id='u29303'>
  <fin xmlns='urn:xmpp:mam:2' complete='true'>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <first index='0'>23452-4534-1</first>
      <last>390-2342-22</last>
      <count>16</count>
    </set>
  </fin>
</iq>
`;

const EX_QUERY_LAST_PAGE = `<iq type='set' id='q29303'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <before/>
    </set>
  </query>
</iq>
`;

const EX_QUERY_FLIPPED = `<iq type='set' id='q29309'>
  <query xmlns='urn:xmpp:mam:2'>
    <x xmlns='jabber:x:data' type='submit'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
      <field var='start'><value>2010-08-07T00:00:00Z</value></field>
    </x>
    <set xmlns='http://jabber.org/protocol/rsm'>
      <max>10</max>
      <after>09af3-cc343-b409f</after>
    </set>
    <flip-page/>
  </query>
</iq>
`;

const AUG_7 = Date.UTC(2010, 7, 7);

const queries: Array<[string, string, MamQuery]> = [
  ["a user queries their archive (queryid)", EX_QUERY_F27, { queryid: "f27", rsm: {} }],
  ["a user queries a pubsub archive", EX_QUERY_F28, { queryid: "f28", rsm: {} }],
  ["filtering by JID", EX_QUERY_WITH, { with: "juliet@capulet.lit", rsm: {} }],
  [
    "filtering by timespan",
    EX_QUERY_TIMESPAN,
    { start: Date.UTC(2010, 5, 7), end: Date.UTC(2010, 6, 7, 13, 23, 54), rsm: {} },
  ],
  ["after a certain time", EX_QUERY_AFTER_TIME, { start: AUG_7, rsm: {} }],
  ["a query using RSM", EX_QUERY_RSM, { start: AUG_7, rsm: { max: 10 } }],
  [
    "a page query using RSM",
    EX_QUERY_PAGE,
    { start: AUG_7, rsm: { max: 10, after: "09af3-cc343-b409f" } },
  ],
  ["the last page", EX_QUERY_LAST_PAGE, { start: AUG_7, rsm: { max: 10, before: "" } }],
];

const fins = [
  [
    "end of a query",
    EX_FIN_F27,
    {
      complete: false,
      rsm: { first: "28482-98726-73623", firstIndex: 0, last: "09af3-cc343-b409f" },
    },
  ],
  [
    "limited results",
    EX_FIN_LIMITED,
    {
      complete: false,
      rsm: { first: "28482-98726-73623", firstIndex: 0, last: "09af3-cc343-b409f", count: 20 },
    },
  ],
  [
    "the last page (complete)",
    EX_FIN_COMPLETE,
    {
      complete: true,
      rsm: { first: "23452-4534-1", firstIndex: 0, last: "390-2342-22", count: 16 },
    },
  ],
] as const;

describe("MAM queries (XEP-0313 examples)", () => {
  for (const [name, example, expected] of queries) {
    it(`${name}: parse and build`, () => {
      const query = queryIn(example);
      expect(parseMamQuery(query)).toEqual(expected);
      expect(canonical(buildMamQuery(expected))).toBe(canonical(query));
    });
  }

  it("the IQ get for the query fields parses as an empty query", () => {
    const query = queryIn(EX_FIELDS_GET);
    expect(parseMamQuery(query)).toEqual({ rsm: {} });
    expect(canonical(buildMamQuery({ rsm: {} }))).toBe(canonical(query));
  });

  it("a flipped page reads as the same query (<flip-page/> is not supported and ignored)", () => {
    expect(parseMamQuery(queryIn(EX_QUERY_FLIPPED))).toEqual({
      start: AUG_7,
      rsm: { max: 10, after: "09af3-cc343-b409f" },
    });
  });

  const extended: Array<[string, string, string]> = [
    ["after-id", EX_QUERY_AFTER_ID, "after-id"],
    ["after-id and before-id", EX_QUERY_BETWEEN_IDS, "after-id"],
    ["ids", EX_QUERY_IDS, "ids"],
    ["include-groupchat true", EX_QUERY_GROUPCHAT_TRUE, "include-groupchat"],
    ["include-groupchat false", EX_QUERY_GROUPCHAT_FALSE, "include-groupchat"],
    ["custom fields", EX_QUERY_CUSTOM_FIELDS, "{http://example.com/}free-text-search"],
  ];
  for (const [name, example, field] of extended) {
    it(`refuses the #extended / unknown field example (${name}) with feature-not-implemented`, () => {
      const err = mamError(() => parseMamQuery(queryIn(example)));
      expect(err.condition).toBe("feature-not-implemented");
      expect(err.field).toBe(field);
      expect(err.message).toBe(
        `Unsupported MAM query field '${field}' (supported: start, end, with).`,
      );
    });
  }
});

describe("MAM result messages (XEP-0313 examples)", () => {
  const examples = [
    ["the first result", stanzas(EX_RESULT_F27)],
    ["two matching messages", stanzas(EX_RESULTS_TWO)],
  ] as const;
  const expected = [
    [{ id: "28482-98726-73623", stamp: Date.UTC(2010, 6, 10, 23, 8, 25), body: "Hail to thee" }],
    [
      { id: "28482-98726-73623", stamp: Date.UTC(2010, 6, 10, 23, 8, 25), body: "Call me but" },
      { id: "5d398-28273-f7382", stamp: Date.UTC(2010, 6, 10, 23, 9, 32), body: "What man art" },
    ],
  ];
  examples.forEach(([name, messages], e) => {
    it(`${name}: parse and build`, () => {
      expect(messages).toHaveLength(expected[e]!.length);
      messages.forEach((message, i) => {
        const want = expected[e]![i]!;
        const parsed = parseMamResult(message);
        if (!parsed) throw new Error("no result parsed");
        expect(parsed.queryid).toBe("f27");
        expect(parsed.id).toBe(want.id);
        expect(parsed.stamp).toBe(want.stamp);
        expect(parsed.forwarded.is("message", "jabber:client")).toBe(true);
        expect(parsed.forwarded.getChildText("body")).toMatch(new RegExp(`^${want.body}`));
        const built = buildMamResult({
          ...parsed,
          to: message.attrs.to!,
          messageId: message.attrs.id,
        });
        expect(canonical(built)).toBe(canonical(message));
        const again = parseMamResult(built);
        expect(again && { ...again, forwarded: canonical(again.forwarded) }).toEqual({
          ...parsed,
          forwarded: canonical(parsed.forwarded),
        });
      });
    });
  });

  it("builds the shape of §4.2 with an RFC 3339 stamp", () => {
    const built = buildMamResult({
      to: "juliet@capulet.lit/chamber",
      from: "juliet@capulet.lit",
      id: "28482-98726-73623",
      stamp: Date.UTC(2010, 6, 10, 23, 8, 25),
      forwarded: xml("message", { xmlns: "jabber:client" }, xml("body", null, "Hi")),
    });
    expect(built.toString()).toBe(
      '<message to="juliet@capulet.lit/chamber" from="juliet@capulet.lit">' +
        '<result xmlns="urn:xmpp:mam:2" id="28482-98726-73623">' +
        '<forwarded xmlns="urn:xmpp:forward:0">' +
        '<delay xmlns="urn:xmpp:delay" stamp="2010-07-10T23:08:25Z"/>' +
        '<message xmlns="jabber:client"><body>Hi</body></message>' +
        "</forwarded></result></message>",
    );
  });

  it("copies the forwarded stanza and puts a namespace-less one in jabber:client", () => {
    const stored = xml("message", { from: "a@b" }, xml("body", null, "x"));
    const holder = xml("holder", { xmlns: "jabber:component:accept" }, stored);
    const built = buildMamResult({ to: "c@d", id: "1", stamp: 1_500, forwarded: stored });
    expect(stored.parent).toBe(holder);
    expect(stored.attrs.xmlns).toBeUndefined();
    const inner = parseMamResult(built)?.forwarded;
    expect(inner?.getNS()).toBe("jabber:client");
    expect(built.toString()).toContain('stamp="1970-01-01T00:00:01.500Z"');
  });

  it("reads what is no usable result as undefined, never throwing", () => {
    const result = (attrs: Record<string, string>, ...children: Element[]) =>
      xml("message", null, xml("result", { xmlns: NS_MAM, ...attrs }, ...children));
    const fwd = (...children: Element[]) => xml("forwarded", { xmlns: NS_FORWARD }, ...children);
    const delay = (stamp: string) => xml("delay", { xmlns: "urn:xmpp:delay", stamp });
    const msg = xml("message", { xmlns: "jabber:client" });
    expect(parseMamResult(xml("message", null, xml("body", null, "hi")))).toBeUndefined();
    expect(parseMamResult(result({}, fwd(delay("2010-07-10T23:08:25Z"), msg)))).toBeUndefined();
    expect(parseMamResult(result({ id: "1" }))).toBeUndefined();
    expect(parseMamResult(result({ id: "1" }, fwd(msg)))).toBeUndefined();
    expect(parseMamResult(result({ id: "1" }, fwd(delay("yesterday"), msg)))).toBeUndefined();
    expect(parseMamResult(result({ id: "1" }, fwd(delay("2010-07-10T23:08:25Z"))))).toBeUndefined();
    expect(
      parseMamResult(result({ id: "1" }, fwd(delay("2010-07-10T23:08:25Z"), msg))),
    ).toMatchObject({ id: "1", stamp: Date.UTC(2010, 6, 10, 23, 8, 25) });
  });
});

describe("MAM fin (XEP-0313 examples)", () => {
  for (const [name, example, expected] of fins) {
    it(`${name}: parse and build`, () => {
      const iq = first(example);
      const fin = iq.getChild("fin", NS_MAM)!;
      expect(parseMamFin(fin)).toEqual(expected);
      expect(parseMamFin(iq)).toEqual(expected);
      expect(canonical(buildMamFin(expected))).toBe(canonical(fin));
    });
  }

  it("writes stable when given and complete only when true", () => {
    const rsm = { first: "a", firstIndex: 0, last: "b" };
    expect(buildMamFin({ complete: false, stable: false, rsm }).toString()).toBe(
      '<fin xmlns="urn:xmpp:mam:2" stable="false"><set xmlns="http://jabber.org/protocol/rsm">' +
        '<first index="0">a</first><last>b</last></set></fin>',
    );
    expect(buildMamFin({ complete: true, rsm: {} }).toString()).toBe(
      '<fin xmlns="urn:xmpp:mam:2" complete="true"><set xmlns="http://jabber.org/protocol/rsm"/></fin>',
    );
    for (const fin of [
      { complete: true, stable: true, rsm },
      { complete: false, stable: false, rsm: { count: 0 } },
    ])
      expect(parseMamFin(buildMamFin(fin))).toEqual(fin);
    expect(parseMamFin(xml("fin", { xmlns: NS_MAM, complete: "1", stable: "0" }))).toEqual({
      complete: true,
      stable: false,
      rsm: {},
    });
  });

  it("refuses what is no fin with a MamQueryError", () => {
    expect(mamError(() => parseMamFin(xml("iq"))).message).toBe(
      "Expected a urn:xmpp:mam:2 <fin/>, got <iq/>.",
    );
    expect(
      mamError(() => parseMamFin(xml("fin", { xmlns: NS_MAM, complete: "yes" }))).message,
    ).toBe("<fin complete/> must be true or false, not 'yes'.");
    const badCount = xml(
      "fin",
      { xmlns: NS_MAM },
      xml("set", { xmlns: NS_RSM }, xml("count", null, "many")),
    );
    expect(mamError(() => parseMamFin(badCount)).condition).toBe("bad-request");
  });
});

describe("MAM query fields form (§4.1.5)", () => {
  it("offers FORM_TYPE, start, end and with, typed as in the spec example", () => {
    const built = buildMamFieldsForm();
    expect(built.toString()).toBe(
      '<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="form">' +
        '<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>' +
        '<field var="start" type="text-single"/><field var="end" type="text-single"/>' +
        '<field var="with" type="jid-single"/></x></query>',
    );
    const ours = parseDataForm(built.getChild("x", NS_DATA_FORMS)!);
    const spec = parseDataForm(queryIn(EX_FIELDS_RESULT).getChild("x", NS_DATA_FORMS)!);
    expect(ours.type).toBe(spec.type);
    expect(ours.formType).toBe(NS_MAM);
    for (const f of ours.fields) {
      const inSpec = spec.fields.find((s) => s.var === f.var);
      expect(inSpec, f.var).toBeDefined();
      expect(f.type).toBe(inSpec!.type);
      expect(f.values).toEqual(inSpec!.values);
    }
  });
});

describe("MAM query errors", () => {
  const form = (type: string, ...fields: Element[]) =>
    xml("x", { xmlns: NS_DATA_FORMS, type }, ...fields);
  const fieldEl = (name: string | undefined, ...values: string[]) =>
    xml("field", { var: name }, ...values.map((v) => xml("value", null, v)));
  const formType = fieldEl("FORM_TYPE", NS_MAM);
  const query = (...children: Element[]) => xml("query", { xmlns: NS_MAM }, ...children);
  const refuse = (el: Element) => mamError(() => parseMamQuery(el));

  it("needs a MAM query element", () => {
    expect(refuse(xml("query", { xmlns: "urn:xmpp:mam:1" })).message).toBe(
      "Expected a urn:xmpp:mam:2 <query/>, got <query/>.",
    );
  });

  it("refuses a form of another FORM_TYPE, or without one", () => {
    const other = refuse(query(form("submit", fieldEl("FORM_TYPE", "urn:xmpp:mam:1"))));
    expect(other.condition).toBe("bad-request");
    expect(other.message).toBe(
      "The query form's FORM_TYPE must be 'urn:xmpp:mam:2', not 'urn:xmpp:mam:1'.",
    );
    expect(refuse(query(form("submit", fieldEl("with", "a@b")))).message).toBe(
      "The MAM query form needs a FORM_TYPE field of 'urn:xmpp:mam:2'.",
    );
    expect(refuse(query(form("submit", fieldEl("FORM_TYPE", NS_MAM, NS_MAM)))).condition).toBe(
      "bad-request",
    );
  });

  it("refuses a form that is not a submission", () => {
    for (const type of ["form", "result", "cancel"]) {
      const err = refuse(query(form(type, formType)));
      expect(err.condition).toBe("bad-request");
      expect(err.message).toBe(`The MAM query form must be of type 'submit', not '${type}'.`);
    }
    expect(refuse(query(form("bogus", formType))).message).toBe("Unknown data form type 'bogus'.");
  });

  it("refuses malformed dates with the field named", () => {
    for (const bad of [
      "",
      "yesterday",
      "2010-06-07",
      "2010-06-07T00:00:00",
      "2010-06-07 00:00:00Z",
      "2010-06-07t00:00:00z",
      "2010-13-01T00:00:00Z",
      "2010-00-01T00:00:00Z",
      "2011-02-29T00:00:00Z",
      "2010-04-31T00:00:00Z",
      "2010-06-07T24:00:00Z",
      "2010-06-07T23:60:00Z",
      "2010-06-07T23:59:60Z",
      "2010-06-07T00:00:00+24:00",
      "2010-06-07T00:00:00+0200",
      "2010-06-07T00:00:00.Z",
      "10-06-07T00:00:00Z",
      "+002010-06-07T00:00:00Z",
      "２０１０-06-07T00:00:00Z",
    ]) {
      for (const name of ["start", "end"]) {
        const err = refuse(query(form("submit", formType, fieldEl(name, bad))));
        expect(err.condition).toBe("bad-request");
        expect(err.field).toBe(name);
        expect(err.message).toBe(
          `Field '${name}' must be an XEP-0082 DateTime (e.g. 2010-06-07T00:00:00Z), not '${bad.trim()}'.`,
        );
      }
    }
  });

  it("refuses unknown, duplicate, nameless and multi-valued fields", () => {
    const unknown = refuse(query(form("submit", formType, fieldEl("before-id", "x"))));
    expect(unknown.condition).toBe("feature-not-implemented");
    expect(unknown.field).toBe("before-id");
    const twice = refuse(query(form("submit", formType, fieldEl("with", "a@b"), fieldEl("with"))));
    expect(twice.message).toBe("Field 'with' appears twice in the MAM query form.");
    expect(refuse(query(form("submit", formType, fieldEl(undefined, "x")))).message).toBe(
      "A field of the MAM query form has no 'var'.",
    );
    expect(refuse(query(form("submit", formType, fieldEl("with", "a@b", "c@d")))).message).toBe(
      "Field 'with' takes a single value.",
    );
    expect(refuse(query(form("submit", formType, fieldEl("with", "  ")))).message).toBe(
      "Field 'with' must name a JID.",
    );
    for (const err of [unknown, twice]) expect(err).toBeInstanceOf(MamQueryError);
  });

  it("refuses two forms, a bad field type and a bad RSM set, all as MamQueryError", () => {
    expect(refuse(query(form("submit", formType), form("submit", formType))).message).toBe(
      "A MAM query takes at most one data form.",
    );
    const badType = xml("field", { var: "with", type: "jid-triple" });
    expect(refuse(query(form("submit", formType, badType))).message).toBe(
      "Field 'with' has unknown type 'jid-triple'.",
    );
    const badMax = refuse(query(xml("set", { xmlns: NS_RSM }, xml("max", null, "-1"))));
    expect(badMax.condition).toBe("bad-request");
    expect(badMax.message).toBe("RSM max must be a non-negative integer, not '-1'.");
    expect(badMax.spec()).toMatchObject({ condition: "bad-request", text: badMax.message });
  });

  it("takes a field without value as absent and ignores unknown children", () => {
    const el = query(form("submit", formType, fieldEl("start")), xml("flip-page"), xml("other"));
    expect(parseMamQuery(el)).toEqual({ rsm: {} });
  });
});

describe("XEP-0082 DateTime", () => {
  it("reads time zone offsets and fractions", () => {
    const t = Date.UTC(2010, 5, 7);
    expect(parseDateTime("2010-06-07T02:30:00+02:30")).toBe(t);
    expect(parseDateTime("2010-06-06T21:00:00-03:00")).toBe(t);
    expect(parseDateTime("2010-06-07T00:00:00.5Z")).toBe(t + 500);
    expect(parseDateTime("2010-06-07T00:00:00.123456Z")).toBe(t + 123);
    expect(parseDateTime("2012-02-29T00:00:00Z")).toBe(Date.UTC(2012, 1, 29));
    expect(parseDateTime("0001-01-01T00:00:00Z")).toBe(Date.parse("0001-01-01T00:00:00Z"));
  });

  it("writes UTC, with milliseconds only when there are some", () => {
    expect(formatDateTime(Date.UTC(2010, 5, 7))).toBe("2010-06-07T00:00:00Z");
    expect(formatDateTime(Date.UTC(2010, 5, 7, 0, 0, 0, 7))).toBe("2010-06-07T00:00:00.007Z");
    expect(() => formatDateTime(Number.NaN)).toThrow(RangeError);
    expect(() => formatDateTime(Date.UTC(10000, 0, 1))).toThrow(RangeError);
  });
});

// ---- properties ----

const MIN_MS = Date.parse("0000-01-01T00:00:00.000Z");
const MAX_MS = Date.parse("9999-12-31T23:59:59.999Z");
const instant = fc.integer({ min: MIN_MS, max: MAX_MS });
const trimmed = fc.string().map((s) => s.trim());
const nonEmpty = trimmed.filter((s) => s !== "");

const validQuery: fc.Arbitrary<MamQuery> = fc.record(
  {
    queryid: fc.string(),
    start: instant,
    end: instant,
    with: nonEmpty,
    rsm: fc.record(
      { max: fc.nat(), after: nonEmpty, before: trimmed, index: fc.nat() },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["rsm"] },
);

/** A string shaped like a DateTime, most of the time slightly wrong. */
const dateLike = fc
  .tuple(
    fc.integer({ min: 0, max: 12_000 }),
    fc.integer({ min: 0, max: 14 }),
    fc.integer({ min: 0, max: 33 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.option(fc.stringMatching(/^\.\d{0,8}$/), { nil: "" }),
    fc.constantFrom("Z", "Z", "+00:00", "-23:59", "+05:30", "z", "", "+24:00", "+05:60", "+0100"),
    fc.constantFrom("-", "-", "-", "/"),
    fc.constantFrom("T", "T", "T", "t", " "),
  )
  .map(([y, mo, d, h, mi, s, frac, tz, sep, t]) => {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(y, 4)}${sep}${p(mo)}${sep}${p(d)}${t}${p(h)}:${p(mi)}:${p(s)}${frac}${tz}`;
  });

/** Mostly `usual`, sometimes `rare`: keeps the hostile cases from drowning the deeper paths. */
function mostly<T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: rare, weight: 1 });
}

const attackerText = fc.oneof(
  fc.string({ unit: "binary" }),
  dateLike,
  fc.constantFrom(NS_MAM, "urn:xmpp:mam:1", "", " ", "-1", "10", "1e3", "9".repeat(30)),
);
const fieldValue = mostly(fc.oneof(instant.map(formatDateTime), dateLike, nonEmpty), attackerText);
const fieldName = mostly(
  fc.constantFrom("FORM_TYPE", "start", "end", "with", "start", "end", "after-id", "__proto__"),
  fc.string({ unit: "binary" }),
);
const fieldType = mostly(
  fc.constantFrom(undefined, "text-single", "jid-single", "hidden"),
  fc.constantFrom("list-multi", "bogus", ""),
);
const attackerField = fc
  .tuple(
    mostly(fieldName, fc.constant(undefined)),
    fieldType,
    mostly(fc.array(fieldValue, { maxLength: 1 }), fc.array(attackerText, { maxLength: 3 })),
  )
  .map(([name, type, values]) =>
    xml("field", { var: name, type }, ...values.map((v) => xml("value", null, v))),
  );
const attackerForm = fc
  .tuple(
    mostly(
      fc.constant("submit"),
      fc.oneof(fc.constantFrom("form", "result", "cancel"), fc.string()),
    ),
    mostly(fc.constant(true), fc.constant(false)),
    fc.uniqueArray(attackerField, { maxLength: 4, selector: (f) => f.attrs.var }),
  )
  .map(([type, withFormType, fields]) =>
    xml(
      "x",
      { xmlns: NS_DATA_FORMS, type },
      withFormType && xml("field", { var: "FORM_TYPE" }, xml("value", null, NS_MAM)),
      ...fields.filter((f) => !withFormType || f.attrs.var !== "FORM_TYPE"),
    ),
  );
const rsmText = mostly(fc.oneof(fc.nat().map(String), fc.string()), attackerText);
const attackerSet = fc
  .uniqueArray(
    fc.tuple(
      fc.constantFrom("max", "after", "before", "index", "first", "count", "other"),
      rsmText,
    ),
    { maxLength: 4, selector: ([name]) => name },
  )
  .map((children) => xml("set", { xmlns: NS_RSM }, ...children.map(([n, t]) => xml(n, null, t))));
const attackerQuery = fc
  .tuple(
    fc.option(attackerText, { nil: undefined }),
    mostly(fc.array(attackerForm, { maxLength: 1 }), fc.array(attackerForm, { maxLength: 3 })),
    fc.option(attackerSet, { nil: undefined }),
    fc.constantFrom(NS_MAM, NS_MAM, NS_MAM, NS_MAM, NS_MAM, NS_MAM, NS_MAM, "urn:xmpp:mam:1"),
  )
  .map(([queryid, forms, set, xmlns]) => xml("query", { xmlns, queryid }, ...forms, set));

function descendants(el: Element): Element[] {
  return el.getChildElements().flatMap((c) => [c, ...descendants(c)]);
}

/** A valid query with one place spoiled: deep paths (dates, field names, RSM) get hit. */
const mutatedQuery = fc
  .tuple(
    validQuery,
    fc.nat(),
    fc.constantFrom("text", "var", "type", "remove", "duplicate", "empty"),
    attackerText,
  )
  .map(([q, pick, how, text]) => {
    const el = buildMamQuery(q);
    const all = descendants(el);
    const target = all[pick % Math.max(all.length, 1)];
    if (!target?.parent) return el;
    if (how === "text") target.children = [text];
    else if (how === "var" || how === "type") target.attrs[how] = text;
    else if (how === "remove") target.parent.remove(target);
    else if (how === "duplicate") target.parent.cnode(buildMamQuery(q).getChildElements()[0]!);
    else target.children = [];
    return el;
  });

function expectValidQuery(q: MamQuery): void {
  const keys = new Set(["queryid", "start", "end", "with", "rsm"]);
  for (const key of Object.keys(q)) expect(keys.has(key), key).toBe(true);
  if (q.queryid !== undefined) expect(typeof q.queryid).toBe("string");
  for (const t of [q.start, q.end]) if (t !== undefined) expect(Number.isSafeInteger(t)).toBe(true);
  if (q.with !== undefined) expect(q.with).not.toBe("");
  const { max, index, after, before, ...rest } = q.rsm;
  expect(rest).toEqual({});
  for (const n of [max, index])
    if (n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  if (after !== undefined) expect(after).not.toBe("");
  if (before !== undefined) expect(typeof before).toBe("string");
}

describe("MAM properties (fast-check)", () => {
  it("parse(build(q)) == q for valid queries, also through the wire text", () => {
    fc.assert(
      fc.property(validQuery, (q) => {
        const built = buildMamQuery(q);
        expect(parseMamQuery(built)).toEqual(q);
        expect(parseMamQuery(parseXml(built.toString()))).toEqual(q);
      }),
      { numRuns: 500 },
    );
  });

  it("DateTime: every instant of years 0000-9999 round-trips; what parses agrees with Date.parse", () => {
    fc.assert(
      fc.property(instant, (ms) => {
        expect(parseDateTime(formatDateTime(ms))).toBe(ms);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(dateLike, (text) => {
        const ms = parseDateTime(text);
        if (ms !== undefined && !/\.\d{4,}/.test(text)) expect(ms).toBe(Date.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("attacker-written queries give a MamQueryError or a valid query, never anything else", () => {
    fc.assert(
      fc.property(fc.oneof(attackerQuery, mutatedQuery), (el) => {
        let q: MamQuery;
        try {
          q = parseMamQuery(el);
        } catch (err) {
          expect(err).toBeInstanceOf(MamQueryError);
          expect(["bad-request", "feature-not-implemented"]).toContain(
            (err as MamQueryError).condition,
          );
          expect((err as MamQueryError).message).not.toBe("");
          return;
        }
        expectValidQuery(q);
      }),
      { numRuns: 2000 },
    );
  });

  it("attacker-written fins and results give a MamQueryError/undefined or a value", () => {
    const attackerFin = fc
      .tuple(
        fc.option(attackerText, { nil: undefined }),
        fc.option(attackerText, { nil: undefined }),
        attackerSet,
      )
      .map(([complete, stable, set]) => xml("fin", { xmlns: NS_MAM, complete, stable }, set));
    fc.assert(
      fc.property(attackerFin, (el) => {
        try {
          const fin = parseMamFin(el);
          expect(typeof fin.complete).toBe("boolean");
        } catch (err) {
          expect(err).toBeInstanceOf(MamQueryError);
        }
      }),
      { numRuns: 500 },
    );
    const attackerResult = fc
      .tuple(fc.option(attackerText, { nil: undefined }), attackerText, fc.boolean())
      .map(([id, stamp, withStanza]) =>
        xml(
          "message",
          null,
          xml(
            "result",
            { xmlns: NS_MAM, id },
            xml(
              "forwarded",
              { xmlns: NS_FORWARD },
              xml("delay", { xmlns: "urn:xmpp:delay", stamp }),
              withStanza && xml("message"),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(attackerResult, (el) => {
        const r = parseMamResult(el);
        if (r) expect(Number.isSafeInteger(r.stamp)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
