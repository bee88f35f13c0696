/*
 * memio/memio.h — everything memio offers, in one include.
 */
#ifndef MEMIO_MEMIO_H
#define MEMIO_MEMIO_H

#include <memio/sys.h>
#include <memio/device.h>
#include <memio/tunnel.h>
#include <memio/packet.h>
#include <memio/port.h>
#include <memio/dispatch.h>

#define MEMIO_VERSION_MAJOR 0
#define MEMIO_VERSION_MINOR 1
#define MEMIO_VERSION_PATCH 0
#define MEMIO_VERSION_STRING "0.1.0"

#endif /* MEMIO_MEMIO_H */
