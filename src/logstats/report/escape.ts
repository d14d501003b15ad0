/**
 * Text from the logs (file names, paths, user agents, referrers) made safe for an HTML page:
 * first as the terminal shows it (control characters, bidirectional controls and lone
 * surrogates written as visible escapes, see printable), then with every character that
 * means something to HTML as an entity. Pure.
 */
import { printable } from '../../ui/printable.ts';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * `text` as HTML text or as a quoted attribute's value: it can close no tag, attribute,
 * `<style>` or `<script>`, and shows a control character as `\x1b`, as crew's terminal output does.
 */
export function escapeHtml(text: string): string {
  return printable(text).replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}
