"""File policy above the quantizer and the codec: loading (fast PNG path or
Pillow), output names, the overwrite and same-file rules, atomic writes."""
