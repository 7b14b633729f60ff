// stb_image compiled into the image fuzz target, from the same header
// Debian's libstb is built from, so that the decoders run with coverage and
// the sanitizers instead of as an opaque shared library. The target's own
// definitions take precedence over the library's when it is linked.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
