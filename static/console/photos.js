// Photos in the browser, for every console page that uploads one ("Try it", the face library):
// read a file, and shrink a photo over the API's 2 MB limit on a canvas (JPEG, quality then size
// stepped down) so that the console never sends, or charges for, a photo the API would refuse.
window.facegatePhotos = (function () {
  "use strict";
  function loadImage(src) {
    return new Promise(function (resolve) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { resolve(null); };
      img.src = src;
    });
  }
  function readDataUrl(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }
  function base64Bytes(dataUrl) { return Math.floor(dataUrl.split(",", 2)[1].length / 4) * 3; }
  function sizeText(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  // Redraw smaller (and as JPEG) until the photo fits; the face stays large enough to be found.
  function shrink(img, maxBytes) {
    var scale = Math.min(1, 3000 / Math.max(img.naturalWidth, img.naturalHeight));
    var quality = 0.9, canvas = document.createElement("canvas"), url;
    for (var i = 0; i < 12; i++) {
      canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
      canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      url = canvas.toDataURL("image/jpeg", quality);
      if (base64Bytes(url) <= maxBytes) { return url; }
      if (quality > 0.75) { quality -= 0.1; } else { scale *= 0.8; }
    }
    return url;
  }

  // The shrunk photo as a File (for a form's file field), named after the original.
  function dataUrlFile(dataUrl, name) {
    var text = atob(dataUrl.split(",", 2)[1]), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return new File([bytes], name.replace(/\.[^.]*$/, "") + ".jpg", {type: "image/jpeg"});
  }

  return {loadImage: loadImage, readDataUrl: readDataUrl, base64Bytes: base64Bytes, sizeText: sizeText,
          shrink: shrink, dataUrlFile: dataUrlFile};
})();
