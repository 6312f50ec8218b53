// `/docs`: the OpenAPI document rendered as one self-contained HTML page (no script, no
// stylesheet or font from elsewhere), so it works on a machine with no way out.

type Json = Record<string, unknown>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function html(text: unknown): string {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** The `$ref` names a response's or body's content points at, as links to their schema. */
function contentRefs(content: unknown): string {
  const names = new Set<string>();
  for (const media of Object.values((content ?? {}) as Record<string, { schema?: { $ref?: string } }>)) {
    const target = media.schema?.$ref;
    if (target) names.add(target.split('/').at(-1)!);
  }
  return [...names].map((n) => `<a href="#schema-${html(n)}">${html(n)}</a>`).join(', ');
}

function operation(path: string, method: string, op: Json): string {
  const params = ((op.parameters ?? []) as Json[])
    .map((p) => {
      const name = p.$ref ? String(p.$ref).split('/').at(-1) : `${p.name} (${p.in})`;
      return `<li><code>${html(name)}</code>${p.description ? ` — ${html(p.description)}` : ''}</li>`;
    })
    .join('');
  const body = op.requestBody ? `<p>Body: ${contentRefs((op.requestBody as Json).content)}</p>` : '';
  const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
    .map(([status, r]) => {
      const target = r.$ref
        ? `<a href="#responses">${html(String(r.$ref).split('/').at(-1))}</a>`
        : contentRefs(r.content);
      return `<li><code>${html(status)}</code> ${html(r.description ?? '')} ${target}</li>`;
    })
    .join('');
  return `<section id="op-${html(op.operationId)}"><h3><code>${method.toUpperCase()} ${html(path)}</code> <small>${html(op.operationId)}</small></h3>
<p>${html(op.summary ?? '')}</p>${params ? `<ul>${params}</ul>` : ''}${body}<ul>${responses}</ul></section>`;
}

/** The page of `document`. */
export function docsPage(document: Json): string {
  const info = document.info as Json;
  const paths = document.paths as Record<string, Json>;
  const ops: string[] = [];
  for (const [path, item] of Object.entries(paths))
    for (const method of METHODS) if (item[method]) ops.push(operation(path, method, item[method] as Json));
  const schemas = Object.entries(((document.components as Json).schemas ?? {}) as Record<string, unknown>)
    .map(
      ([name, schema]) =>
        `<section id="schema-${html(name)}"><h3>${html(name)}</h3><pre>${html(JSON.stringify(schema, null, 2))}</pre></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(info.title)} API ${html(info.version)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
pre{background:#f4f4f4;padding:.5rem;overflow:auto}h3 small{color:#666;font-weight:normal}</style></head>
<body><h1>${html(info.title)} API <small>${html(info.version)}</small></h1>
<p>${html(info.description ?? '')} The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Operations</h2>
${ops.join('\n')}
<h2 id="responses">Errors</h2><p>Every error is <code>application/problem+json</code>: see <a href="#schema-Problem">Problem</a>.</p>
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}
