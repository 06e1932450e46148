// Parsing of --store=mongodb://... without touching the network (unit-tested): the database to use,
// a description safe for logs (no credentials), and the defaults that make a down MongoDB fail fast.
#pragma once
#include <string>

#include "hybridnode/result.h"

namespace hn::store {

struct MongoTarget {
  std::string uri;        // as given
  // Effective timeouts: the URI's, else 2000 ms, so a down MongoDB becomes a quick 503, not a request
  // stuck for the driver's 30 s default.
  int server_selection_timeout_ms = 2000;
  int connect_timeout_ms = 2000;
  std::string database;   // from the URI path; "hybridnode" when none
  std::string describe;   // "mongodb:host1:port,host2:port/db"
};

bool is_mongo_uri(const std::string& s);
// mongoc_init() once per process; mongoc_cleanup() at exit (so leak checkers see the driver released).
void mongoc_runtime();
Result<MongoTarget> parse_mongo_uri(const std::string& s);

}  // namespace hn::store
