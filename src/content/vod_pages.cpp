#include "content/vod_pages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace hn::content {

std::string vod_playlist(const Manifest& m) {
  // EXT-X-TARGETDURATION: at least every EXTINF rounded to the nearest integer (RFC 8216 4.3.3.1).
  double longest = 1;
  for (const auto& c : m.chunks) longest = std::max(longest, c.duration);
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:" +
                    std::to_string(static_cast<int>(std::ceil(longest - 1e-3))) + "\n#EXT-X-MEDIA-SEQUENCE:0\n";
  out.reserve(out.size() + m.chunks.size() * 96);
  char line[48];
  for (const auto& c : m.chunks) {
    // Timestamps jump here (files joined end to end): players must reset their timeline.
    if (c.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    std::snprintf(line, sizeof line, "#EXTINF:%.3f,\n", c.duration);
    out += line;
    // The .ts suffix is only a name for players that look at extensions; the route strips it.
    out += "/chunks/" + c.id + ".ts\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

namespace {
std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}
}  // namespace

std::string catalog_html(const std::string& catalog_json) {
  std::string out =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>hybridnode</title></head><body>\n"
      "<h1>Videos</h1>\n<ul>\n";
  auto j = nlohmann::json::parse(catalog_json, nullptr, false);
  size_t n = 0;
  if (j.is_object() && j.contains("videos") && j["videos"].is_array()) {
    for (const auto& v : j["videos"]) {
      if (!v.is_object() || !v.contains("id") || !v["id"].is_string()) continue;
      std::string id = v["id"].get<std::string>();
      std::string title = v.contains("title") && v["title"].is_string() ? v["title"].get<std::string>() : id;
      out += "<li>" + esc(title) + " &mdash; <a href=\"/videos/" + esc(id) + "\">manifest</a>";
      if (v.contains("playlist") && v["playlist"].is_string())
        out += " &middot; <a href=\"" + esc(v["playlist"].get<std::string>()) + "\">HLS playlist</a>";
      out += "</li>\n";
      ++n;
    }
  }
  if (n == 0) out += "<li>no videos yet (hybridnode ingest FILE --store ...)</li>\n";
  out += "</ul>\n<p>API: <a href=\"/videos\">/videos</a> &middot; <a href=\"/healthz\">/healthz</a> &middot; "
         "<a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";
  return out;
}

}  // namespace hn::content
