// cart19: click a figure of the book to see it at the full width of the window (Escape or a
// second click closes it). The figures are SVG, so they stay sharp at any size. The enlarged
// image is created on the first click, so a page holds no image without a source.
document.addEventListener("DOMContentLoaded", () => {
  let overlay = null;
  const close = () => { if (overlay) overlay.hidden = true; };
  const open = (img) => {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "cart19-zoom";
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-label", "Figure, enlarged");
      overlay.appendChild(document.createElement("img"));
      overlay.addEventListener("click", close);
      document.body.appendChild(overlay);
    }
    const big = overlay.firstChild;
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    overlay.hidden = false;
  };
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  document.querySelectorAll("article.bd-article figure img").forEach((img) => {
    img.classList.add("cart19-zoomable");
    img.title = img.title || "Click to enlarge";
    img.addEventListener("click", () => open(img));
  });
});
