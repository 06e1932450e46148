// Text the content server derives from manifests: VOD playlists for HLS-ingested videos, and the small
// HTML catalog answered at / when no --web-root is set.
#pragma once
#include <string>

#include "hybridnode/manifest.h"

namespace hn::content {

// RFC 8216 VOD media playlist: every chunk as /chunks/ID.ts, EXT-X-ENDLIST. `m` must be an "hls" manifest.
std::string vod_playlist(const Manifest& m);

// An HTML page listing the catalog (the JSON of GET /videos) with links to manifests and playlists.
std::string catalog_html(const std::string& catalog_json);

}  // namespace hn::content
