// Face library forms: a photo over the API's 2 MB limit is shrunk in the browser before the form
// posts it (photos.js), as on "Try it", instead of being refused.
(function () {
  "use strict";
  var photos = window.facegatePhotos;
  document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var file = input && input.files[0], maxBytes = Number(form.dataset.maxBytes);
      if (!file || file.size <= maxBytes) { return; }
      event.preventDefault();
      photos.readDataUrl(file).then(photos.loadImage).then(function (img) {
        if (img) {  // a file the browser cannot read goes as it is: the server says why it is refused
          var picked = new DataTransfer();
          picked.items.add(photos.dataUrlFile(photos.shrink(img, maxBytes), file.name));
          input.files = picked.files;
        }
        form.submit();
      });
    });
  });
})();
