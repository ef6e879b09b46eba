#!/bin/sh
echo "api on $(uname -m): $(cat /app/arch.conf | tr '\n' ' ')"
