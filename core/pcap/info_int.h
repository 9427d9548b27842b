/* info_int.h: helpers shared by the text (info.c) and JSON (info_json.c)
 * forms of `pcap info`. */
#ifndef SY_PCAP_INFO_INT_H
#define SY_PCAP_INFO_INT_H

#include "core/pcap/info.h"

/* "12.345 ms", "6.53 s", "2 h 05 min", "3650 days". */
const char *pcap_info_dur(char *buf, size_t n, uint64_t ns);
/* "2011-07-28 12:54:46 UTC" for ns since the epoch. */
const char *pcap_info_date(char *buf, size_t n, uint64_t ns);
/* The capture's duration: first to last frame (messages when no frame was counted). */
uint64_t pcap_info_duration(const struct pcap_flows *f);
/* Frames that did not decode, SIP payloads that did not parse, malformed SMPP PDUs. */
uint64_t pcap_info_malformed(const struct pcap_flows *f);

#endif
