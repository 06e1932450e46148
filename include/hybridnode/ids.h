/// @file
/// Identifier rules shared by every role: what a chunk id and a video id may look like.
#pragma once
#include "hybridnode/export.h"
#include <string_view>

namespace hn {

/// A chunk id is the lowercase hex SHA-256 of the chunk's bytes: exactly 64 chars of [0-9a-f].
HN_API bool is_chunk_id(std::string_view s);

/// A video id names a video in URLs and file names: 1..64 chars of [A-Za-z0-9._-], not starting
/// with '.', so it can never be "..", a hidden file or contain a path separator.
HN_API bool is_video_id(std::string_view s);

}  ///< namespace hn
