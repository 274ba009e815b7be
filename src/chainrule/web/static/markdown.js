// A small Markdown reader for the chain-rule report: bold lines, tables, lists, `code`.
// Everything is escaped first, so the report's text can never become markup.

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function inline(text) {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

function table(lines) {
  const head = cells(lines[0]);
  const aligns = cells(lines[1]).map((c) => (c.endsWith(":") ? "right" : "left"));
  const th = head.map((c, i) => `<th style="text-align:${aligns[i]}">${inline(c)}</th>`).join("");
  const rows = lines.slice(2).map((line) => {
    const tds = cells(line).map((c, i) => `<td style="text-align:${aligns[i] || "left"}">${inline(c)}</td>`);
    return `<tr>${tds.join("")}</tr>`;
  });
  return `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

/** The HTML of `markdown` (the subset the chain-rule report writes). */
export function renderMarkdown(markdown) {
  const blocks = markdown.replace(/\r\n/g, "\n").split(/\n{2,}/);
  return blocks
    .map((block) => {
      const lines = block.split("\n").filter((l) => l.trim() !== "");
      if (!lines.length) return "";
      if (lines.length >= 2 && lines[0].trim().startsWith("|") && /^\s*\|?\s*:?-{3,}/.test(lines[1])) {
        return table(lines);
      }
      if (lines.every((l) => /^\s*[-*] /.test(l))) {
        return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ""))}</li>`).join("")}</ul>`;
      }
      const heading = /^(#{1,4}) (.*)$/.exec(lines[0]);
      if (heading && lines.length === 1) {
        const level = Math.min(heading[1].length + 2, 6); // the page's own h2 sits above
        return `<h${level}>${inline(heading[2])}</h${level}>`;
      }
      if (lines.some((l) => /^\s*[-*] /.test(l))) {
        // a paragraph followed by a list, with no blank line between
        const first = lines.findIndex((l) => /^\s*[-*] /.test(l));
        return renderMarkdown(lines.slice(0, first).join("\n")) + renderMarkdown(lines.slice(first).join("\n"));
      }
      return `<p>${lines.map(inline).join("<br>")}</p>`;
    })
    .join("\n");
}
