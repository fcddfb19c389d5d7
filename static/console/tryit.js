// "Try it": reads the chosen photo(s) (shrinking any over the API's 2 MB limit on a canvas first),
// posts them to the console endpoint (which signs and runs the call through the gateway), then shows
// the result: numbered boxes and landmarks on the photo, one card per face, the similarity of a
// compare, every error in words with the next step, and the calls left.
(function () {
  "use strict";
  var form = document.getElementById("try-form");
  var apiSelect = document.getElementById("try-api");
  var appSelect = document.getElementById("try-app");
  var statusLine = document.getElementById("try-status");
  var data = JSON.parse(document.getElementById("try-data").textContent);
  var t = document.getElementById("try-i18n").dataset;
  var numbers = new Intl.NumberFormat("en-US");
  var GOOD = "#16a34a", BAD = "#dc2626", CAUTION = "#d97706", BOX = "#22c55e";

  function fill(text, args) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return args[key]; });
  }
  function isCompare() { return apiSelect.value === "compare"; }
  function setStatus(text) { statusLine.textContent = text || ""; }

  function showRemaining(n) {
    var box = document.getElementById("try-remaining");
    box.textContent = "";
    if (!appSelect.value) { return; }
    if (n === undefined) { n = ((data.remaining[appSelect.value] || {})[apiSelect.value]) || 0; }
    if (n > 0) { box.textContent = fill(t.remaining, {n: numbers.format(n)}); return; }
    box.appendChild(document.createTextNode(t.remainingNone + " "));
    box.appendChild(buyLink(false));
  }
  function buyLink(asButton) {
    var a = document.createElement("a");
    a.href = data.buyUrl + "?app=" + encodeURIComponent(appSelect.value) + "&api=" + encodeURIComponent(apiSelect.value);
    if (asButton) { a.className = "button primary"; a.id = "try-buy"; }
    a.textContent = t.buy;
    return a;
  }

  function layout() {
    var pair = isCompare();
    document.getElementById("second-photo").hidden = !pair;
    document.getElementById("try-canvas2").hidden = !pair;
    document.getElementById("try-canvases").classList.toggle("pair", pair);
    showRemaining();
  }
  apiSelect.addEventListener("change", layout);
  appSelect.addEventListener("change", function () { showRemaining(); });
  layout();

  var photos = window.facegatePhotos;
  var loadImage = photos.loadImage, readDataUrl = photos.readDataUrl, base64Bytes = photos.base64Bytes;
  var sizeText = photos.sizeText;
  function shrink(img) { return photos.shrink(img, data.maxBytes); }

  // {dataUrl, img, note} for a chosen file; an error message (string) when it cannot be used.
  function preparePhoto(input, n) {
    var file = input.files[0];
    if (!file) { return Promise.resolve(null); }
    setStatus(t.reading);
    return readDataUrl(file).then(function (url) {
      return loadImage(url).then(function (img) {
        if (!img) { throw fill(t.unreadable, {n: n}); }
        if (file.size <= data.maxBytes) { return {dataUrl: url, img: img, note: ""}; }
        setStatus(fill(t.shrinking, {from: sizeText(file.size)}));
        var small = shrink(img);
        return loadImage(small).then(function (smallImg) {
          return {dataUrl: small, img: smallImg,
                  note: fill(t.shrunk, {n: n, from: sizeText(file.size), to: sizeText(base64Bytes(small))})};
        });
      });
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

  // Verdict words and colour class of one face, by API.
  function verdicts(face) {
    var rows = [];
    if (face.gender) {
      rows.push([t.gender, face.gender === "Male" ? t.male : t.female, ""]);
      rows.push([t.age, face.age, ""]);
    }
    if (face.FaceAntiSpoofing) {
      var live = face.FaceAntiSpoofing === data.liveValue;
      rows.push([t.liveness, (live ? t.live : t.spoof) + " · " + t.score + " " + Number(face.liveness_score).toFixed(2),
                 live ? "good" : "bad"]);
    }
    if (face.mask) {
      var words = {wearing: t.wearing, not_wearing: t.notWearing, incorrect: t.incorrect}[face.mask] || face.mask;
      rows.push([t.mask, words + " · " + t.score + " " + Number(face.mask_score).toFixed(2),
                 face.mask === "wearing" ? "good" : (face.mask === "incorrect" ? "caution" : "bad")]);
    }
    rows.push([t.confidence, Number(face.score).toFixed(2), ""]);
    return rows;
  }
  function faceColour(rows) {
    var worst = "";
    rows.forEach(function (r) { if (r[2] === "bad") { worst = "bad"; } else if (r[2] === "caution" && !worst) { worst = "caution"; } });
    return worst;
  }

  // Boxes, landmarks and a number per face; the words go to the cards, so nothing collides on the photo.
  function drawFaces(ctx, faces, fixedColour) {
    var canvas = ctx.canvas;
    var shown = canvas.getBoundingClientRect().width || canvas.width;
    var unit = Math.max(1, canvas.width / shown);  // one screen pixel, in image pixels
    faces.forEach(function (face, i) {
      var box = face.face_location;
      var colour = fixedColour || {bad: BAD, caution: CAUTION}[faceColour(verdicts(face))] || BOX;
      ctx.lineWidth = 2.5 * unit;
      ctx.strokeStyle = colour;
      ctx.strokeRect(box.left, box.top, box.width, box.height);
      ctx.fillStyle = "#f43f5e";
      (face.landmarks || []).forEach(function (p) {
        ctx.beginPath(); ctx.arc(p[0], p[1], 2 * unit, 0, 2 * Math.PI); ctx.fill();
      });
      var label = String(i + 1), size = Math.min(16 * unit, Math.max(box.width / 2.5, 9 * unit));
      ctx.font = "bold " + size + "px sans-serif";
      var w = ctx.measureText(label).width + size * 0.6;
      ctx.fillStyle = colour;
      ctx.fillRect(box.left, box.top, w, size * 1.3);
      ctx.fillStyle = "#fff";
      ctx.fillText(label, box.left + size * 0.3, box.top + size * 1.05);
    });
  }

  function faceCards(faces) {
    var holder = document.getElementById("try-faces");
    faces.forEach(function (face, i) {
      var rows = verdicts(face), card = document.createElement("div");
      card.className = "face-card " + faceColour(rows);
      card.dataset.face = String(i + 1);
      var h = document.createElement("h3");
      h.textContent = fill(t.face, {n: i + 1});
      card.appendChild(h);
      var dl = document.createElement("dl");
      dl.className = "kv";
      rows.forEach(function (r) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = r[0];
        dd.textContent = r[1];
        if (r[2]) { dd.className = "verdict " + r[2]; }
        dl.appendChild(dt); dl.appendChild(dd);
      });
      card.appendChild(dl);
      holder.appendChild(card);
    });
  }

  function showError(code, details, summary) {
    var box = document.createElement("div");
    box.className = "try-error";
    box.id = "try-error";
    var head = document.createElement("strong");
    head.textContent = (data.codes[code] || details || "") + " (" + code + ")";
    box.appendChild(head);
    var step = data.nextSteps[code];
    if (step) {
      var p = document.createElement("p");
      p.textContent = step + " ";
      if (code === "4291") { p.appendChild(buyLink(true)); }
      box.appendChild(p);
    }
    summary.appendChild(box);
  }

  // The large similarity, its verdict and the false accept rate it implies (when measured for the pack).
  function showSimilarity(value, far, summary) {
    var same = value >= 0.5, box = document.createElement("div");
    box.className = "similarity";
    box.id = "try-similarity";
    box.innerHTML = "<span class='muted'></span><strong></strong><span class='verdict'></span>" +
      "<p class='far' id='try-far'></p><p class='muted'></p>";
    box.children[0].textContent = t.similarity;
    box.children[1].textContent = value.toFixed(3);
    box.children[2].textContent = (same ? "✓ " : "✗ ") + (same ? t.same : t.different);
    box.children[2].classList.add(same ? "good" : "bad");
    if (far) { box.children[3].textContent = far.text; box.children[3].dataset.band = far.band; }
    else { box.children[3].hidden = true; }
    box.children[4].textContent = t.threshold + (far ? " " + t.farNote : "");
    summary.appendChild(box);
  }

  function reset() {
    document.getElementById("try-summary").innerHTML = "";
    document.getElementById("try-faces").innerHTML = "";
    document.getElementById("try-raw").hidden = true;
    document.body.dataset.tryDone = "";
  }

  function finish(outcome) { document.body.dataset.tryDone = outcome; }

  // One click: put the shipped sample photo(s) into the file fields (two for compare) and run.
  document.getElementById("try-sample").addEventListener("click", function () {
    var urls = isCompare() ? data.samples.pair : data.samples.single;
    var inputs = [document.getElementById("try-file1"), document.getElementById("try-file2")];
    document.body.dataset.tryDone = "";
    Promise.all(urls.map(function (url) {
      return fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) { throw t.failed; }
        return r.blob();
      }).then(function (blob) { return new File([blob], url.split("/").pop(), {type: blob.type || "image/jpeg"}); });
    })).then(function (files) {
      files.forEach(function (file, i) {
        var picked = new DataTransfer();
        picked.items.add(file);
        inputs[i].files = picked.files;
      });
      form.requestSubmit();
    }).catch(function () { setStatus(t.failed); finish("console"); });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    reset();
    var summary = document.getElementById("try-summary");
    var inputs = [document.getElementById("try-file1"), document.getElementById("try-file2")];
    if (!inputs[0].files[0]) { setStatus(t.choose); finish("console"); return; }
    if (isCompare() && !inputs[1].files[0]) { setStatus(t.choose2); finish("console"); return; }
    var pictures;
    Promise.all([preparePhoto(inputs[0], 1), isCompare() ? preparePhoto(inputs[1], 2) : Promise.resolve(null)])
      .then(function (ready) {
        pictures = ready;
        setStatus(t.running);
        var payload = {app: appSelect.value, api: apiSelect.value,
                       images: ready.filter(Boolean).map(function (p) { return p.dataUrl.split(",", 2)[1]; })};
        return fetch(form.dataset.url, {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json",
                    "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value},
          body: JSON.stringify(payload)
        }).then(function (r) { return r.json(); }, function () { throw t.failed; });
      })
      .then(function (answer) {
        var reply = answer.reply;
        document.getElementById("try-result").textContent = JSON.stringify(reply, null, 2);
        document.getElementById("try-raw").hidden = false;
        var ctx1 = paint(document.getElementById("try-canvas1"), pictures[0]);
        paint(document.getElementById("try-canvas2"), pictures[1]);
        var notes = pictures.filter(function (p) { return p && p.note; }).map(function (p) { return p.note; });
        notes.push(answer.charged ? t.charged : t.notCharged);
        setStatus(notes.join(" "));
        if (answer.remaining !== undefined) { showRemaining(answer.remaining); }
        if (reply.code !== "0") {
          showError(reply.code, reply.details, summary);
        } else if (isCompare()) {
          // The console asks for the compared faces (face_fields "location"): result is {score, face_location1, 2}.
          var score = typeof reply.result === "number" ? reply.result : reply.result.score;
          showSimilarity(score, answer.far, summary);
          var colour = score >= 0.5 ? GOOD : BAD;
          var ctx2 = document.getElementById("try-canvas2").getContext("2d");
          var boxes = 0;
          [ctx1, pictures[1] ? ctx2 : null].forEach(function (ctx, i) {
            var face = (answer.faces || [])[i];
            if (ctx && face) { drawFaces(ctx, [face], colour); boxes += 1; }
          });
          document.body.dataset.tryBoxes = String(boxes);
        } else {
          var p = document.createElement("p");
          p.textContent = fill(t.faces, {n: reply.result.face_num});
          summary.appendChild(p);
          if (ctx1) { drawFaces(ctx1, reply.result.face_list); }
          faceCards(reply.result.face_list);
        }
        document.body.dataset.tryFaces = (reply.result && reply.result.face_num) || 0;
        document.body.dataset.tryShrunk = String(notes.length > 1);
        finish(reply.code);
      })
      .catch(function (err) {
        setStatus(typeof err === "string" ? err : t.failed);
        finish("console");
      });
  });
})();
