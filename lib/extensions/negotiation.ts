/**
 * The `Sec-WebSocket-Extensions` header of RFC 6455 §9.1, read and written:
 *
 *     Sec-WebSocket-Extensions = extension-list
 *     extension-list = 1#extension
 *     extension = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * with RFC 7230 tokens, quoted strings and optional whitespace around the separators. "When using
 * the quoted-string syntax variant, the value after quoted-string unescaping MUST conform to the
 * 'token' ABNF" (§9.1), so a value is always a token once read.
 */

/** A parameter's value: a token, or `true` for a parameter given without a value. */
export type ExtensionParamValue = string | true;

/** An extension's parameters by name (names are case-sensitive tokens). */
export type ExtensionParams = Record<string, ExtensionParamValue>;

/** One element of the header: an extension name and its parameters, in the order they came. */
export interface ExtensionElement {
  name: string;
  params: Array<[string, ExtensionParamValue]>;
}

/** A `Sec-WebSocket-Extensions` value that breaks the RFC 6455 §9.1 grammar. */
export class ExtensionHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExtensionHeaderError";
  }
}

/** RFC 7230 §3.2.6 tchar. */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isExtensionToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * Reads a header value into its elements. An absent or empty header is no elements; anything the
 * grammar does not allow throws an `ExtensionHeaderError` that says where and why.
 */
export function parseExtensions(header: string | undefined): ExtensionElement[] {
  const elements: ExtensionElement[] = [];
  if (header === undefined) return elements;
  const text = header;
  let pos = 0;

  const skipSpace = (): void => {
    while (pos < text.length && (text[pos] === " " || text[pos] === "\t")) pos++;
  };
  const fail = (what: string): never => {
    throw new ExtensionHeaderError(`Malformed Sec-WebSocket-Extensions header: ${what} at offset ${pos} in '${text}'`);
  };
  const readToken = (what: string): string => {
    const start = pos;
    while (pos < text.length && TCHAR.test(text[pos])) pos++;
    if (pos === start) fail(`expected ${what}`);
    return text.slice(start, pos);
  };
  const readQuoted = (): string => {
    // RFC 7230 §3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    pos++;
    let value = "";
    for (;;) {
      if (pos >= text.length) fail("unterminated quoted string");
      const char = text[pos++];
      if (char === '"') break;
      if (char === "\\") {
        if (pos >= text.length) fail("unterminated quoted string");
        value += text[pos++];
      } else {
        value += char;
      }
    }
    // RFC 6455 §9.1: the unescaped value must itself be a token.
    if (!isExtensionToken(value)) fail(`quoted value '${value}' is not a token`);
    return value;
  };

  skipSpace();
  if (pos === text.length) return elements;
  for (;;) {
    // RFC 7230 §7: a list may hold empty elements (", ,"), which are ignored.
    skipSpace();
    if (text[pos] === ",") { pos++; continue; }
    const element: ExtensionElement = { name: readToken("an extension name"), params: [] };
    skipSpace();
    while (text[pos] === ";") {
      pos++;
      skipSpace();
      const name = readToken("a parameter name");
      skipSpace();
      let value: ExtensionParamValue = true;
      if (text[pos] === "=") {
        pos++;
        skipSpace();
        value = text[pos] === '"' ? readQuoted() : readToken(`a value for '${name}'`);
        skipSpace();
      }
      element.params.push([name, value]);
    }
    elements.push(element);
    if (pos === text.length) return elements;
    if (text[pos] !== ",") fail(`unexpected '${text[pos]}'`);
    pos++;
    skipSpace();
    while (text[pos] === ",") { pos++; skipSpace(); }
    if (pos === text.length) return elements;
  }
}

/** The name of a parameter given twice in an element, or undefined if each is given once. */
export function repeatedParam(element: ExtensionElement): string | undefined {
  const seen = new Set<string>();
  for (const [name] of element.params) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** An element's parameters as a record (the last one wins; check `repeatedParam` first). */
export function paramsOf(element: ExtensionElement): ExtensionParams {
  const params: ExtensionParams = Object.create(null);
  for (const [name, value] of element.params) params[name] = value;
  return params;
}

/** Writes one element: `name; flag; key=value`. Throws a `TypeError` for a name or value that is not a token. */
export function serializeElement(name: string, params: ExtensionParams): string {
  if (!isExtensionToken(name)) throw new TypeError(`Extension name '${name}' is not a token`);
  let out = name;
  for (const [key, value] of Object.entries(params)) {
    if (!isExtensionToken(key)) throw new TypeError(`Extension parameter name '${key}' is not a token`);
    if (value === true) {
      out += `; ${key}`;
    } else {
      const text = String(value);
      if (!isExtensionToken(text)) throw new TypeError(`Value '${text}' of extension parameter '${key}' is not a token`);
      out += `; ${key}=${text}`;
    }
  }
  return out;
}

/** Writes a whole header value from elements, in order. */
export function serializeExtensions(elements: ReadonlyArray<{ name: string; params: ExtensionParams }>): string {
  return elements.map((element) => serializeElement(element.name, element.params)).join(", ");
}
