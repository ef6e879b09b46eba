#!/bin/sh
echo "relay on $(uname -m)"
