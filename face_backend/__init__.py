"""The face backend: vision engine and its small HTTP app."""
from face_backend.vision.limits import limit_opencv

limit_opencv()
