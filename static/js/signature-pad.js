// The signer's signature: drawn with a mouse, a finger or a pen on signature_pad's canvas (with
// Undo and Clear), or typed. Without this script the page offers the typed name only, and the
// form works as it is. The drawing goes to the server as a PNG data URL in a hidden field; only
// the chosen way is sent (the other field is disabled), so the server never gets both.
(() => {
  const setUp = (fieldset) => {
    const canvas = fieldset.querySelector("[data-signature-pad]");
    const png = fieldset.querySelector("[data-signature-png]");
    const typed = fieldset.querySelector("[data-signature-type] input");
    const drawPanel = fieldset.querySelector("[data-signature-draw]");
    const typePanel = fieldset.querySelector("[data-signature-type]");
    const choice = fieldset.querySelector("[data-signature-choice]");
    const status = fieldset.querySelector("[data-signature-status]");
    if (!canvas || !png || !typed || typeof window.SignaturePad !== "function") return;

    const pad = new window.SignaturePad(canvas, { penColor: "#0b2a5b", minWidth: 0.8, maxWidth: 2.6 });
    const say = (words) => { status.textContent = words; };
    const keep = () => { png.value = pad.isEmpty() ? "" : pad.toDataURL("image/png"); };

    // The canvas is drawn in device pixels, so a signature stays sharp on a dense screen; a
    // resize (a phone turned) redraws the strokes at the new size.
    const fit = () => {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (strokes.length) pad.fromData(strokes);
      else if (png.value) pad.fromDataURL(png.value).catch(() => { png.value = ""; });
    };

    const use = (way) => {
      drawPanel.hidden = way !== "draw";
      typePanel.hidden = way !== "type";
      png.disabled = way !== "draw";
      typed.disabled = way !== "type";
      for (const radio of choice.querySelectorAll("[data-signature-method]")) {
        radio.checked = radio.value === way;
      }
      if (way === "draw") fit();
    };

    pad.addEventListener("endStroke", () => {
      keep();
      say("");
    });
    fieldset.querySelector("[data-signature-undo]").addEventListener("click", () => {
      const strokes = pad.toData();
      strokes.pop();
      pad.fromData(strokes);
      keep();
      say(strokes.length ? "The last stroke is undone." : "The box is empty: draw your signature.");
    });
    fieldset.querySelector("[data-signature-clear]").addEventListener("click", () => {
      pad.clear();
      keep();
      say("Cleared: draw your signature again.");
    });
    choice.addEventListener("change", (event) => {
      if (event.target.matches("[data-signature-method]")) use(event.target.value);
    });
    window.addEventListener("resize", () => { if (!drawPanel.hidden) fit(); });

    choice.hidden = false;
    // A name typed before (the page shown again after a problem) keeps the typed way.
    use(typed.value.trim() && !png.value ? "type" : "draw");
  };

  document.addEventListener("DOMContentLoaded", () => {
    for (const fieldset of document.querySelectorAll("[data-signature]")) setUp(fieldset);
  });
})();
