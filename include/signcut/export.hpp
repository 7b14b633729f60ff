// SIGNCUT_API marks what the shared libraries export. The libraries are
// built with hidden visibility, so anything not marked is internal.
#pragma once

#if defined(_WIN32)
#define SIGNCUT_API
#else
#define SIGNCUT_API __attribute__((visibility("default")))
#endif
