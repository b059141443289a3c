/**
 * Agents often answer in plain text with "•" bullets on single lines, which Markdown would run together
 * into one paragraph. Those lines become list items; everything else is left to the Markdown renderer.
 */
export function toMarkdown(text: string): string {
  return text.replace(/^([ \t]*)[•·▪◦][ \t]+/gm, '$1- ');
}
