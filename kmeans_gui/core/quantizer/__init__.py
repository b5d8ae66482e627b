"""The quantizer: histogram, K-Means, remapping and dithering, colour spaces,
metrics. numpy and the C kernels only: it knows no files, Pillow or PNG."""
