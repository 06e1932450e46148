#include "hybridnode/version.h"

namespace hn {

const char* library_version() { return HN_VERSION; }

}  // namespace hn
