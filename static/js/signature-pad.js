// The signer's signature: drawn with a mouse, a finger or a pen on signature_pad's canvas (with
// Undo and Clear), or typed. Without this script the page offers the typed name only, and the
// form works as it is. The drawing goes to the server as a PNG data URL in a hidden field: the
// part of the canvas with ink on it, scaled down to what the stamp can use (every pixel sent is
// one the server decodes while the signer waits). Only the chosen way is sent (the other field
// is disabled), so the server never gets both.
(() => {
  // The LOA's signature box is 280 x 40 pt: 640 pixels across it are about 165 dpi, as sharp as
  // a pen on paper prints, while every pixel more is one the server inflates while the signer
  // waits (bench/signing.py: the check and the stamp of a drawing against a bare page copy).
  const MOST = { width: 640, height: 400 };
  // Kept around the ink, in canvas pixels, so that the strokes' soft edges are not cut.
  const MARGIN = 8;
  // A dot is a drawing still: the server refuses one under 20 x 10 pixels as too small.
  const LEAST = { width: 40, height: 20 };

  // Return the box of the canvas's pixels that are not transparent, or null if none is.
  const inkBox = (canvas) => {
    const { width, height } = canvas;
    if (!width || !height) return null;
    const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    const inked = (x, y) => pixels[(y * width + x) * 4 + 3] !== 0;
    let top = -1;
    let bottom = -1;
    let left = width;
    let right = -1;
    for (let y = 0; y < height; y += 1) {
      let first = 0;
      while (first < width && !inked(first, y)) first += 1;
      if (first === width) continue;
      if (top < 0) top = y;
      bottom = y;
      left = Math.min(left, first);
      // From the right, only as far as the ink found on the rows above.
      let last = width - 1;
      while (last > right && last > first && !inked(last, y)) last -= 1;
      right = Math.max(right, last);
    }
    return top < 0 ? null : { left, top, right: right + 1, bottom: bottom + 1 };
  };

  // Widen [start, end) around its middle to at least `least`, within [0, limit).
  const grow = (start, end, least, limit) => {
    const missing = Math.max(least - (end - start), 0);
    const from = Math.max(start - Math.ceil(missing / 2), 0);
    return [from, Math.min(Math.max(end + Math.floor(missing / 2), from + least), limit)];
  };

  // Return the drawing as a PNG data URL: its ink and a margin, scaled down to fit MOST.
  const trimmed = (canvas) => {
    const ink = inkBox(canvas);
    if (!ink) return "";
    let [left, right] = [Math.max(ink.left - MARGIN, 0), Math.min(ink.right + MARGIN, canvas.width)];
    let [top, bottom] = [Math.max(ink.top - MARGIN, 0), Math.min(ink.bottom + MARGIN, canvas.height)];
    const scaleOf = () => Math.min(1, MOST.width / (right - left), MOST.height / (bottom - top));
    const scale = scaleOf();
    [left, right] = grow(left, right, Math.ceil(LEAST.width / scale), canvas.width);
    [top, bottom] = grow(top, bottom, Math.ceil(LEAST.height / scale), canvas.height);
    const [width, height] = [right - left, bottom - top];
    const fitted = scaleOf();
    const out = document.createElement("canvas");
    out.width = Math.max(Math.round(width * fitted), 1);
    out.height = Math.max(Math.round(height * fitted), 1);
    const context = out.getContext("2d");
    context.imageSmoothingQuality = "high";
    context.drawImage(canvas, left, top, width, height, 0, 0, out.width, out.height);
    return out.toDataURL("image/png");
  };

  const setUp = (fieldset) => {
    const canvas = fieldset.querySelector("[data-signature-pad]");
    const png = fieldset.querySelector("[data-signature-png]");
    const typed = fieldset.querySelector("[data-signature-type] input");
    const drawPanel = fieldset.querySelector("[data-signature-draw]");
    const typePanel = fieldset.querySelector("[data-signature-type]");
    const choice = fieldset.querySelector("[data-signature-choice]");
    const status = fieldset.querySelector("[data-signature-status]");
    if (!canvas || !png || !typed || typeof window.SignaturePad !== "function") return;

    // The pad is read back after every stroke, to find the ink: a canvas kept in memory does
    // that without a round trip to the graphics card.
    const pad = new window.SignaturePad(canvas, {
      penColor: "#0b2a5b",
      minWidth: 0.8,
      maxWidth: 2.6,
      canvasContextOptions: { willReadFrequently: true },
    });
    const say = (words) => { status.textContent = words; };
    const keep = () => { png.value = pad.isEmpty() ? "" : trimmed(canvas); };

    // A drawing sent before (the page shown again after a problem) is drawn back in the middle
    // of the pad, keeping its shape, no larger than it was drawn; it is sent again as it is.
    const restore = (ratio) => {
      const image = new Image();
      image.onload = () => {
        const scale = Math.min(
          canvas.offsetWidth / image.naturalWidth,
          canvas.offsetHeight / image.naturalHeight,
          1 / ratio,
        );
        const width = image.naturalWidth * scale;
        const height = image.naturalHeight * scale;
        pad
          .fromDataURL(png.value, {
            width,
            height,
            xOffset: (canvas.offsetWidth - width) / 2,
            yOffset: (canvas.offsetHeight - height) / 2,
          })
          .catch(() => { png.value = ""; });
      };
      image.onerror = () => { png.value = ""; };
      image.src = png.value;
    };

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
      else if (png.value) restore(ratio);
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
