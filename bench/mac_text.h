// "02:00:00:00:00:01" into 6 bytes, for the bench tools' command lines.
#pragma once

#include <cstdint>
#include <cstdio>

inline bool parse_mac(const char* text, uint8_t* mac) {
  unsigned m[6];
  if (std::sscanf(text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(m[i]);
  return true;
}
