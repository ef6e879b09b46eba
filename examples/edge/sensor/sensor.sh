#!/bin/sh
echo "sensor reading on $(uname -m)"
