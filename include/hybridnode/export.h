/// @file
/// HN_API marks what libhybridnode.so exports: the public API in include/hybridnode/ and nothing else.
/// The library is compiled with hidden visibility, so a symbol without HN_API stays internal to the .so
/// (a static libhybridnode.a is unaffected).
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define HN_API __attribute__((visibility("default")))
#else
#define HN_API
#endif

/// HN_LOCAL keeps a nested implementation type of an exported class (its pImpl) internal.
#if defined(__GNUC__) || defined(__clang__)
#define HN_LOCAL __attribute__((visibility("hidden")))
#else
#define HN_LOCAL
#endif
