"""The PNG codec: arrays, palette and metadata in, PNG bytes out, and the fast
reader, bytes in, arrays out. It knows nothing of the quantizer.

Importing this package imports nothing else, so ``png.reader`` (standard
library and zlib-ng only) can start before numpy is loaded."""
