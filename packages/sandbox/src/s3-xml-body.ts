import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './s3-error.ts';

/**
 * Where a DTD starts. The parser reads a DTD (and the entities it declares) wherever `<!D` appears, so refusing
 * the body when the raw text holds one, before parsing, refuses every DTD the parser could read — a superset
 * check: a key that merely contains the text inside CDATA is refused too, which no real client sends.
 */
const DTD_START = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Keys are text: "0001" stays "0001", " a " keeps its spaces, as S3 stores them.
  parseTagValue: false,
  trimValues: false,
  // The five XML entities and numeric character references (&#46; &#x2e;) are decoded; keys are checked decoded.
  // htmlEntities is the switch for numeric references; HTML's names (&nbsp; &period;) never reach the parser,
  // refused first by undefinedReference.
  processEntities: true,
  htmlEntities: true,
  maxNestedTags: 16,
});

/** Every reference in the text outside CDATA (where `&` is plain text). */
const REFERENCE = /&([^;&<\s]*);?/g;
const CDATA = /<!\[CDATA\[[\s\S]*?\]\]>/g;
const PREDEFINED = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/** XML 1.0's Char production: what a character reference may name. */
function isXmlCharacter(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/**
 * S3 refuses a reference XML does not define (`&nbsp;`, `&#0;`, a bare `&`); the parser would keep it as text
 * or drop it. Refusing it keeps the decoded keys exactly what S3 would have read.
 */
function undefinedReference(text: string): string | undefined {
  for (const match of text.replace(CDATA, '').matchAll(REFERENCE)) {
    const [whole, name = ''] = match;
    if (!whole.endsWith(';')) return whole;
    if (PREDEFINED.has(name)) continue;
    const numeric = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(name);
    if (!numeric || !isXmlCharacter(numeric[1] !== undefined ? Number(numeric[1]) : Number.parseInt(numeric[2] ?? '', 16))) return whole;
  }
  return undefined;
}

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';

/**
 * Parses an S3 request body (DeleteObjects, CompleteMultipartUpload) with a real XML parser: character references
 * and CDATA are decoded exactly once here, so what the front checks is the text that reaches storage. A body with
 * a DTD or entity declaration is refused (`MalformedXML`), as is one that is not well-formed or has another root.
 */
export function parseS3XmlBody(body: Buffer, root: string): Record<string, unknown> {
  const text = body.toString('utf8');
  if (DTD_START.test(text)) throw new S3Error('MalformedXML', `${MALFORMED}: DTDs and entity declarations are not accepted`);
  if (XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML', MALFORMED);
  const reference = undefinedReference(text);
  if (reference !== undefined) throw new S3Error('MalformedXML', `${MALFORMED}: ${JSON.stringify(reference.slice(0, 16))} is not an XML entity or character reference (use &amp; for a literal &)`);
  let document: unknown;
  try {
    document = parser.parse(text);
  } catch {
    throw new S3Error('MalformedXML', MALFORMED);
  }
  const element = (document as Record<string, unknown>)[root];
  if (element === undefined || Object.keys(document as object).length !== 1) throw new S3Error('MalformedXML', `${MALFORMED}: the root element must be <${root}>`);
  // An empty element parses as '': treat it as an element with no children.
  return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
}

/** A child that may occur once or many times, always as a list. */
export function childList(element: Record<string, unknown>, name: string): unknown[] {
  const value = element[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The text of a simple child element, or undefined when it is absent or not text. */
export function childText(element: unknown, name: string): string | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const value = (element as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}
