"""Browser-side touches Gradio has no setting for: a character counter under every text box with a limit (and a
note when a paste was cut to fit), and a read-only look for tables that are not editable."""
from __future__ import annotations

# Gradio renders a Textbox's max_length as the textarea's `maxlength`, and the browser then cuts a longer paste
# without a word. The counter reads that attribute, so it follows the catalogue's limits without repeating them.
JS = """
() => {
  const fmt = (n) => n.toLocaleString('en-US');
  const limited = (el) => el && el.getAttribute && el.getAttribute('maxlength')
      && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && el.type === 'text'));
  function update(el, cutNote) {
    const max = parseInt(el.getAttribute('maxlength'), 10);
    if (!max) return;
    let c = el.__studioCounter;
    if (!c || !c.isConnected) {
      c = document.createElement('div');
      c.className = 'char-count';
      c.setAttribute('aria-live', 'polite');
      // Below the box: Gradio wraps a textarea in a flex row (with its buttons), where it would sit beside it.
      const parent = el.parentElement;
      const anchor = parent && getComputedStyle(parent).display.includes('flex') ? parent : el;
      anchor.insertAdjacentElement('afterend', c);
      el.__studioCounter = c;
    }
    const n = el.value.length;
    if (cutNote) el.__studioCut = cutNote;
    else if (n < max) el.__studioCut = '';
    const text = `${fmt(n)} / ${fmt(max)} characters` + (el.__studioCut ? ` — ${el.__studioCut}` : '');
    if (c.textContent !== text) c.textContent = text;
    c.classList.toggle('char-count-full', n >= max);
    c.classList.toggle('char-count-cut', !!el.__studioCut);
  }
  document.addEventListener('paste', (e) => {
    const el = e.target;
    if (!limited(el)) return;
    const max = parseInt(el.getAttribute('maxlength'), 10);
    const pasted = ((e.clipboardData || window.clipboardData).getData('text') || '');
    const room = max - (el.value.length - ((el.selectionEnd || 0) - (el.selectionStart || 0)));
    if (pasted.length > room) {
      const note = `the pasted text was cut: ${fmt(pasted.length)} characters pasted, `
                 + `${fmt(Math.max(room, 0))} kept (the limit is ${fmt(max)})`;
      setTimeout(() => update(el, note), 0);
    }
  }, true);
  document.addEventListener('input', (e) => { if (limited(e.target)) update(e.target); }, true);
  // Values set by the app (a preset, a hand-off) fire no input event: refresh every counter now and then.
  const scan = () => document.querySelectorAll('textarea[maxlength], input[type=text][maxlength]')
      .forEach((el) => update(el));
  setInterval(scan, 700);
  scan();
  // An image or audio field shows its validation message as a banner laid over its top edge, where it hides the
  // drop zone or the player. Make room for it: pad the field's block by the banner's height while it shows.
  const makeRoom = () => {
    document.querySelectorAll('.block').forEach((block) => {
      const banner = block.querySelector(':scope > [data-testid=status-tracker] .validation-error');
      const h = banner && banner.offsetParent !== null ? banner.offsetHeight : 0;
      if (h > 0) {
        const want = `${h + 6}px`;
        if (block.style.paddingTop !== want) block.style.paddingTop = want;
        block.__studioPadded = true;
      } else if (block.__studioPadded) {
        block.style.paddingTop = '';
        block.__studioPadded = false;
      }
    });
  };
  setInterval(makeRoom, 250);
}
"""

CSS = """
.char-count { font-size: 12px; opacity: 0.75; text-align: right; margin-top: 2px; }
.char-count-full { opacity: 1; color: #b45309; }
.char-count-cut { opacity: 1; color: #b00020; font-weight: 600; }
/* A table that is read, not edited: a click picks the row, with no row/column handles. */
.read-only-table .selection-button, .read-only-table .cell-menu-button { display: none !important; }
.read-only-table tbody tr:hover td { cursor: pointer; }
/* An HTML block with nothing in it (a status line before any run, the reviewer's style holder) takes no room:
   otherwise each leaves a blank band of padding and gap. A <style> inside a hidden block still applies. */
.block.hide-container:has(> .html-container > .prose:empty), #role-style { display: none !important; }
/* A phone (390×844) shows a tab's main input and run button without scrolling: a compact header and smaller
   image drop zones there. */
@media (max-width: 640px) {
  .gradio-container h1 { font-size: 1.35rem !important; margin: 0 !important; }
  #mode-banner { font-size: 0.78rem; }
  #mode-banner p { line-height: 1.35; margin: 0; }
  .tab-summary { display: none !important; }     /* the tab's name says it; the summary costs two lines */
  /* The tabs wrap onto rows rather than fold into a menu: compact buttons keep that to two or three rows. */
  .tab-wrapper button[role=tab] { padding: 4px 9px !important; font-size: 0.85rem !important; }
  #th-audio .audio-container, #th-audio [data-testid=upload-container] { min-height: 0 !important; }
  #th-audio button.center { min-height: 0 !important; height: 110px !important; }
  /* The history keeps readable columns and scrolls sideways inside its own frame, not the page. */
  #jobs-table table { min-width: 760px; }
  #jobs-table th, #jobs-table th * { white-space: nowrap !important; }
  /* Gradio turns the percentage column widths into pixels of the 320-pixel frame and pins every cell (header
     <th>, body .body-cell) to them, so rows collapsed to a few pixels a column: readable fixed widths instead,
     the same for headers and cells (7 columns with a cost, 6 without; the error column is the last). */
  #jobs-table th, #jobs-table .body-cell { width: 76px !important; min-width: 76px !important;
    max-width: none !important; flex: 0 0 76px !important; }
  #jobs-table th:nth-child(1), #jobs-table .body-cell:nth-child(1) { width: 104px !important;
    min-width: 104px !important; flex-basis: 104px !important; }
  #jobs-table th:nth-child(2), #jobs-table .body-cell:nth-child(2),
  #jobs-table th:nth-child(3), #jobs-table .body-cell:nth-child(3) { width: 112px !important;
    min-width: 112px !important; flex-basis: 112px !important; }
  #jobs-table th:last-child, #jobs-table .body-cell:last-child { width: 280px !important;
    min-width: 280px !important; flex-basis: 280px !important; }
  #jobs-table .virtual-body { min-width: max-content; }
  /* The job's details: the names column keeps its words whole. */
  #jobs-details td:first-child, #jobs-details th:first-child { min-width: 7.5em; word-break: normal !important;
    overflow-wrap: normal !important; }
  #jobs-table .body-cell, #jobs-table .body-cell * { overflow-wrap: anywhere; }
  #th-image, #panel-image { height: auto !important; }
  #th-image .image-container, #panel-image .image-container { height: 160px !important; }
}
"""
