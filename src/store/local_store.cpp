// Local folder store. Files are written to a temporary name, fsynced and renamed, so a crash never
// leaves a truncated chunk or manifest under its final name.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <cstring>

#include "hybridnode/chunk_store.h"
#include "hybridnode/ids.h"
#include "media/sha256.h"
#include "util/unique_fd.h"

namespace hn {
namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return make_error(errno_text("mkdir " + path));
}

Result<void> write_atomically(const std::string& path, const void* data, size_t len) {
  // A fresh name per write (two pool threads may write the same chunk), created exclusively and never
  // through a symlink someone planted at that name.
  static std::atomic<uint64_t> seq{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(seq++);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) return make_error(errno_text("open " + tmp));
  const char* p = static_cast<const char*>(data);
  size_t left = len;
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = errno_text("write " + tmp);
      ::unlink(tmp.c_str());
      return make_error(err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    auto err = errno_text("fsync " + tmp);
    ::unlink(tmp.c_str());
    return make_error(err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = errno_text("rename " + tmp);
    ::unlink(tmp.c_str());
    return make_error(err);
  }
  return {};
}

// Opens what must be a regular file, without following a symlink or blocking on a FIFO or device.
Result<UniqueFd> open_regular(const std::string& path, struct stat& st) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return make_error(kNotFound + path);
    if (errno == ELOOP) return make_error(path + " is a symlink (refused)");
    return make_error(errno_text("open " + path));
  }
  if (::fstat(fd.get(), &st) != 0) return make_error(errno_text("fstat " + path));
  if (!S_ISREG(st.st_mode)) return make_error(path + " is not a regular file (refused)");
  return Result<UniqueFd>(std::move(fd));
}

// The whole file, refused before reading when it is larger than `max`.
Result<std::string> read_small_file(const std::string& path, size_t max) {
  struct stat st {};
  auto fd = open_regular(path, st);
  if (!fd) return make_error(fd.error());
  if (static_cast<uint64_t>(st.st_size) > max) return make_error(path + " is larger than " + std::to_string(max) + " bytes");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd->get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(errno_text("read " + path));
    if (n == 0) break;  // shrank while read: parse what is there (it will fail and hide one video)
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

// Within a second or two of now (either way: a clock set back): a later change may still carry it.
bool recent(const struct timespec& t) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::llabs(static_cast<long long>(now.tv_sec) - static_cast<long long>(t.tv_sec)) <= 1;
}

std::string stamp_of(const struct stat& st) {
  return std::to_string(st.st_dev) + ':' + std::to_string(st.st_ino) + ':' + std::to_string(st.st_size) + ':' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + ':' +
         std::to_string(st.st_ctim.tv_sec) + '.' + std::to_string(st.st_ctim.tv_nsec);
}

class LocalStore final : public ChunkStore {
 public:
  explicit LocalStore(std::string dir) : dir_(std::move(dir)) {}

  std::string describe() const override { return "local:" + dir_; }

  std::string chunk_path(const std::string& id) const { return dir_ + "/chunks/" + id.substr(0, 2) + "/" + id; }
  std::string manifest_path(const std::string& vid) const { return dir_ + "/videos/" + vid + ".json"; }

  Result<void> put_chunk(const std::string& id, const void* data, size_t len) override {
    if (!is_chunk_id(id)) return make_error("invalid chunk id");
    if (has_chunk(id)) return {};
    auto r = make_dir(dir_ + "/chunks/" + id.substr(0, 2));
    if (!r) return r;
    return write_atomically(chunk_path(id), data, len);
  }

  bool has_chunk(const std::string& id) override {
    if (!is_chunk_id(id)) return false;
    struct stat st;
    return ::lstat(chunk_path(id).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  Result<ChunkSource> open_chunk(const std::string& id) override {
    if (!is_chunk_id(id)) return make_error(std::string(kNotFound) + "invalid chunk id");
    auto path = chunk_path(id);
    // Only a regular file is a chunk: a symlink could point anywhere (/etc/passwd), a FIFO would block
    // this pool thread in open(), a directory would "send" 4096 bytes.
    struct stat st {};
    auto opened = open_regular(path, st);
    if (!opened) {
      if (opened.error().rfind(kNotFound, 0) == 0) return make_error(kNotFound + id);
      return make_error(opened.error());
    }
    int fd = opened->get();
    auto owner = std::make_shared<UniqueFd>(std::move(*opened));
    // Start the disk read now, on this pool thread, so sendfile on the loop finds the page cache warm.
    ::posix_fadvise(fd, 0, st.st_size, POSIX_FADV_WILLNEED);
    ChunkSource src;
    src.fd = fd;
    src.length = static_cast<uint64_t>(st.st_size);
    src.owner = owner;
    return src;
  }

  Result<void> put_manifest(const Manifest& m) override {
    if (!is_video_id(m.video_id)) return make_error("invalid video id");
    auto text = manifest_to_json(m);
    return write_atomically(manifest_path(m.video_id), text.data(), text.size());
  }

  Result<std::vector<Manifest>> load_manifests() override {
    std::vector<std::string> ids;
    auto listed = list_manifests();
    if (!listed) return make_error(listed.error());
    for (auto& e : **listed) ids.push_back(std::move(e.video_id));
    return load_manifests(ids);
  }

  Result<std::vector<Manifest>> load_manifests(const std::vector<std::string>& ids) override {
    std::vector<Manifest> out;
    for (const auto& id : ids) {
      // Size-checked before reading, and only regular files: /dev/zero or a FIFO named *.json must
      // neither exhaust memory nor wedge the refresh.
      auto text = read_small_file(manifest_path(id), kMaxManifestBytes);
      auto m = text ? manifest_from_json(*text) : Result<Manifest>(make_error(text.error()));
      // A broken manifest hides one video, not the whole catalog.
      if (!m || m->video_id != id) continue;
      out.push_back(std::move(*m));
    }
    return out;
  }

  // The videos folder's own stamp: every manifest write is a rename into it (and a removal unlinks from
  // it), which changes the folder's mtime, so one stat() tells whether anything may have changed. A
  // timestamp has the kernel's coarse granularity (a few ms): while the folder changed within the last
  // second, a second change could carry the same mtime, so the token is "" (unknown: list again).
  Result<std::string> catalog_version() override {
    std::string vdir = dir_ + "/videos";
    struct stat st {};
    if (::stat(vdir.c_str(), &st) != 0) return make_error(errno_text("stat " + vdir));
    if (recent(st.st_mtim)) return std::string();
    return stamp_of(st);
  }

  // Names of videos/*.json with inode, size, mtime and ctime: a rewrite (a rename: a new inode) changes the
  // stamp, and so does an edit in place unless it lands within the same clock tick as this listing and
  // keeps the size (ingest never edits in place). No manifest is opened.
  Result<std::optional<std::vector<ManifestStamp>>> list_manifests() override {
    std::string vdir = dir_ + "/videos";
    DIR* d = ::opendir(vdir.c_str());
    if (d == nullptr) return make_error(errno_text("opendir " + vdir));
    std::vector<ManifestStamp> out;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
      std::string id = name.substr(0, name.size() - 5);
      if (!is_video_id(id)) continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      out.push_back({std::move(id), stamp_of(st)});
    }
    ::closedir(d);
    return std::optional<std::vector<ManifestStamp>>(std::move(out));
  }

 private:
  std::string dir_;
};

}  // namespace

Result<std::vector<Manifest>> ChunkStore::load_manifests(const std::vector<std::string>& video_ids) {
  auto all = load_manifests();
  if (!all) return all;
  std::vector<Manifest> out;
  for (auto& m : *all)
    if (std::find(video_ids.begin(), video_ids.end(), m.video_id) != video_ids.end()) out.push_back(std::move(m));
  return out;
}

Result<std::unique_ptr<ChunkStore>> open_local_store(const std::string& dir) {
  if (dir.empty()) return make_error("store: empty directory path");
  for (const auto& d : {dir, dir + "/chunks", dir + "/videos"}) {
    auto r = make_dir(d);
    if (!r) return make_error("store: " + r.error());
  }
  std::unique_ptr<ChunkStore> s = std::make_unique<LocalStore>(dir);
  return s;
}

}  // namespace hn
