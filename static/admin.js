// The admin's one script, progressive enhancement only: every page works
// without it.
//
// Live preview in the article editor: a moment after typing stops, the
// server renders the text (the same Markdown and sanitiser as the public
// site) and it is shown under the form. The Preview button does the same
// without JavaScript.
(() => {
  const body = document.getElementById('body');
  const out = document.getElementById('live-preview');
  const form = body && body.form;
  if (!body || !out || !form || !form.elements.csrf) return;
  const section = out.closest('section');
  let timer;
  let last = null;
  const render = async () => {
    if (body.value === last) return;
    last = body.value;
    const data = new URLSearchParams({ csrf: form.elements.csrf.value, body: body.value });
    try {
      const response = await fetch('/admin/preview', { method: 'POST', body: data, credentials: 'same-origin' });
      if (!response.ok) return;
      // Rendered and sanitised by the server.
      out.innerHTML = await response.text();
      section.hidden = false;
    } catch {
      // Offline or signed out: the Preview button still works.
    }
  };
  body.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(render, 400);
  });
  if (body.value.trim()) render();
})();
