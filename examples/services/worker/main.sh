echo "processing jobs"
