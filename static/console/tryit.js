// "Try it": reads the chosen photo(s), posts them to the console endpoint (which signs and runs the
// call through the gateway), then draws boxes, the 5 landmarks and labels over the image on a canvas.
(function () {
  "use strict";
  var form = document.getElementById("try-form");
  var apiSelect = document.getElementById("try-api");
  var status = document.getElementById("try-status");
  var images = [null, null];

  function isCompare() { return apiSelect.value === "compare"; }

  apiSelect.addEventListener("change", function () {
    document.getElementById("second-photo").hidden = !isCompare();
    document.getElementById("try-canvas2").hidden = !isCompare();
  });

  function readFile(input) {
    return new Promise(function (resolve, reject) {
      var file = input.files[0];
      if (!file) { resolve(null); return; }
      var reader = new FileReader();
      reader.onload = function () {
        var img = new Image();
        img.onload = function () { resolve({dataUrl: reader.result, img: img}); };
        img.onerror = function () { resolve({dataUrl: reader.result, img: null}); };
        img.src = reader.result;
      };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }

  function paint(canvas, picture) {
    if (!picture || !picture.img) { canvas.width = 0; canvas.height = 0; return null; }
    canvas.width = picture.img.naturalWidth;
    canvas.height = picture.img.naturalHeight;
    var ctx = canvas.getContext("2d");
    ctx.drawImage(picture.img, 0, 0);
    return ctx;
  }

  function faceLabels(face) {
    var parts = ["score " + Number(face.score).toFixed(2)];
    if (face.gender) { parts.push(face.gender + " " + face.age); }
    if (face.FaceAntiSpoofing) { parts.push(face.FaceAntiSpoofing + " " + Number(face.liveness_score).toFixed(2)); }
    if (face.mask) { parts.push("mask: " + face.mask + " " + Number(face.mask_score).toFixed(2)); }
    return parts;
  }

  function drawFaces(ctx, faces) {
    var unit = Math.max(2, Math.round(Math.max(ctx.canvas.width, ctx.canvas.height) / 300));
    ctx.font = (unit * 6) + "px sans-serif";
    faces.forEach(function (face, i) {
      var box = face.face_location;
      ctx.lineWidth = unit;
      ctx.strokeStyle = "#22c55e";
      ctx.strokeRect(box.left, box.top, box.width, box.height);
      ctx.fillStyle = "#f43f5e";
      (face.landmarks || []).forEach(function (p) {
        ctx.beginPath(); ctx.arc(p[0], p[1], unit * 1.5, 0, 2 * Math.PI); ctx.fill();
      });
      var lines = ["#" + (i + 1)].concat(faceLabels(face));
      var lineHeight = unit * 7, y = Math.max(box.top - lines.length * lineHeight - unit, 0);
      lines.forEach(function (text, k) {
        var w = ctx.measureText(text).width + unit * 2;
        ctx.fillStyle = "rgba(0,0,0,0.65)";
        ctx.fillRect(box.left, y + k * lineHeight, w, lineHeight);
        ctx.fillStyle = "#fff";
        ctx.fillText(text, box.left + unit, y + (k + 1) * lineHeight - unit * 1.5);
      });
    });
  }

  function base64Of(picture) { return picture ? picture.dataUrl.split(",", 2)[1] : ""; }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "…";
    document.body.dataset.tryDone = "";
    Promise.all([readFile(document.getElementById("try-file1")),
                 isCompare() ? readFile(document.getElementById("try-file2")) : Promise.resolve(null)])
      .then(function (pictures) {
        images = pictures;
        var payload = {app: document.getElementById("try-app").value, api: apiSelect.value,
                       images: pictures.filter(Boolean).map(base64Of)};
        return fetch(form.dataset.url, {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json",
                    "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value},
          body: JSON.stringify(payload)
        });
      })
      .then(function (r) { return r.json(); })
      .then(function (reply) {
        document.getElementById("try-result").textContent = JSON.stringify(reply, null, 2);
        var ctx1 = paint(document.getElementById("try-canvas1"), images[0]);
        var ctx2 = paint(document.getElementById("try-canvas2"), images[1]);
        var summary = document.getElementById("try-summary");
        if (reply.code !== "0") {
          summary.textContent = reply.code + " · " + (reply.details || reply.message);
        } else if (typeof reply.result === "number") {
          summary.textContent = form.dataset.similarity + " " + reply.result.toFixed(3) +
            (reply.result >= 0.5 ? " ✓ " + form.dataset.same : " ✗ " + form.dataset.different);
        } else {
          summary.textContent = reply.result.face_num + " " + form.dataset.faces;
          if (ctx1) { drawFaces(ctx1, reply.result.face_list); }
        }
        status.textContent = "";
        document.body.dataset.tryDone = reply.code;
        document.body.dataset.tryFaces = (reply.result && reply.result.face_num) || 0;
      })
      .catch(function (err) { status.textContent = String(err); document.body.dataset.tryDone = "error"; });
  });
})();
