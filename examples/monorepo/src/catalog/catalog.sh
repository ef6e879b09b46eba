#!/bin/sh
echo "catalog on $(uname -m), schema $(head -c 20 /srv/pb/store.proto)"
