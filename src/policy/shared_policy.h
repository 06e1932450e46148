// One capacity policy for several worker loops (--workers): the policy stays the single owner of the
// admission state and every call goes through one mutex, so --max-transfers=8 means 8 for the whole
// process whichever loop a client lands on. The slots' finish() calls come from any loop too.
#pragma once
#include <memory>

#include "hybridnode/capacity_policy.h"

namespace hn {

std::shared_ptr<CapacityPolicy> make_shared_policy(std::shared_ptr<CapacityPolicy> inner);

}  // namespace hn
