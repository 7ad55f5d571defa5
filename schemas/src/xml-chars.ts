/**
 * The characters XML 1.0 allows (§2.2 Char), and the one routine that turns a character
 * reference's number into text. Everything Warble decodes (html text in Atom entries) and
 * everything it writes (see xml-writer.ts) goes through these, so no forbidden character can
 * reach the wire: a server answers one with the stream error not-well-formed and drops the stream.
 */

/** #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] */
export function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** Every code point XML 1.0 forbids, and lone surrogates (the `u` flag reads them as one each). */
export const NOT_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** What a forbidden character becomes when text must be written anyway. */
export const REPLACEMENT_CHARACTER = "\uFFFD";

/**
 * The text of a numeric character reference's digits ("x1F600" or "128512"), or undefined when
 * they name no character XML allows (controls, surrogates, U+FFFE/U+FFFF, beyond U+10FFFF, or
 * digits too long to be a number at all).
 */
export function decodeCharRef(digits: string): string | undefined {
  const hex = digits[0] === "x" || digits[0] === "X";
  const body = hex ? digits.slice(1) : digits;
  if (body.length === 0 || body.length > 8 || !(hex ? /^[0-9a-f]+$/i : /^[0-9]+$/).test(body))
    return undefined;
  const codePoint = Number.parseInt(body, hex ? 16 : 10);
  return isXmlChar(codePoint) ? String.fromCodePoint(codePoint) : undefined;
}

/** Replace every forbidden character by U+FFFD; `counted` learns how many there were. */
export function toXmlText(text: string, counted?: (n: number) => void): string {
  NOT_XML_CHARS.lastIndex = 0;
  if (!NOT_XML_CHARS.test(text)) return text;
  let n = 0;
  const clean = text.replace(NOT_XML_CHARS, () => {
    n++;
    return REPLACEMENT_CHARACTER;
  });
  counted?.(n);
  return clean;
}
