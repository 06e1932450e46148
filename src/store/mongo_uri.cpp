#include "store/mongo_uri.h"

#include <mongoc/mongoc.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "util/log.h"

namespace hn::store {

bool is_mongo_uri(const std::string& s) { return s.rfind("mongodb://", 0) == 0 || s.rfind("mongodb+srv://", 0) == 0; }

void mongoc_runtime() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    // The driver's own chatter goes through our log, warnings and worse only.
    mongoc_log_set_handler([](mongoc_log_level_t level, const char* domain, const char* message, void*) {
      if (level <= MONGOC_LOG_LEVEL_WARNING) log::warn(std::string("mongoc ") + domain + ": " + message);
    }, nullptr);
    std::atexit(mongoc_cleanup);
  });
}

Result<MongoTarget> parse_mongo_uri(const std::string& s) {
  mongoc_runtime();
  bson_error_t err;
  std::unique_ptr<mongoc_uri_t, decltype(&mongoc_uri_destroy)> uri(mongoc_uri_new_with_error(s.c_str(), &err), mongoc_uri_destroy);
  if (!uri) return make_error(std::string("--store: invalid MongoDB URI: ") + err.message);
  MongoTarget t;
  t.uri = s;
  t.server_selection_timeout_ms = mongoc_uri_get_option_as_int32(uri.get(), MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
  t.connect_timeout_ms = mongoc_uri_get_option_as_int32(uri.get(), MONGOC_URI_CONNECTTIMEOUTMS, 2000);
  const char* db = mongoc_uri_get_database(uri.get());
  t.database = db && *db ? db : "hybridnode";
  if (t.database.find_first_of("/\\. \"$") != std::string::npos) return make_error("--store: invalid database name " + t.database);
  std::string hosts;
  for (const mongoc_host_list_t* h = mongoc_uri_get_hosts(uri.get()); h != nullptr; h = h->next)
    hosts += (hosts.empty() ? "" : ",") + std::string(h->host_and_port);
  if (hosts.empty()) hosts = "srv";
  t.describe = "mongodb:" + hosts + "/" + t.database;
  return t;
}

}  // namespace hn::store
