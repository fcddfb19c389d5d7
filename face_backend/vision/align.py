"""5-point similarity alignment to the ArcFace 112x112 template (used by SFace, ArcFace, mask)."""
from __future__ import annotations

import cv2
import numpy as np

# InsightFace's reference points for a 112x112 crop, in YuNet's landmark order
# (right eye, left eye, nose, right mouth corner, left mouth corner: image-left first).
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src to dst (Umeyama).

    Returns a 2x3 matrix for cv2.warpAffine. Written out instead of cv2.estimateAffinePartial2D
    because that one uses RANSAC and can drop a landmark on small, noisy faces.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = src.shape[0]
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / n
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / n
    scale = (s * d).sum() / var_src if var_src > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = dst_mean - scale * rot @ src_mean
    return matrix


def align_face(img_bgr: np.ndarray, landmarks5: np.ndarray, size: int = 112) -> np.ndarray:
    """The face warped onto the ArcFace template, `size` x `size` BGR (template scaled for size != 112)."""
    dst = ARCFACE_112 * (size / 112.0)
    matrix = similarity_transform(np.asarray(landmarks5, dtype=np.float64).reshape(5, 2), dst)
    return cv2.warpAffine(img_bgr, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
