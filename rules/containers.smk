# Container images (apptainer), built from containers/*.def, and their digests.
# With config container: apptainer, evaluate/baseline run in the eval image (snakemake
# --sdm apptainer, set in profiles/slurm) and agent runs wrap solve.sh in the agent image
# (ptb/inputs/containers.py); every job that uses an image takes its digest json as input, and
# each run manifest records it. Images are built where apptainer and the network are
# (a login or build node: these are local rules); a prebuilt .sif newer than its .def
# is used as is. docs/cluster.md.
for _image in ptb_containers.IMAGES:
    if _image not in config["images"]:
        continue

    rule:
        name:
            f"build_{_image}_image"
        input:
            definition=f"containers/{_image}.def",
        output:
            sif=config["images"][_image],
        log:
            log_path("containers", f"build_{_image}"),
        benchmark:
            benchmark_path("containers", f"build_{_image}")
        localrule: True
        shell:
            "apptainer build --force {output.sif} {input.definition} > {log} 2>&1"


rule image_digest:
    input:
        sif=lambda w: config["images"][w.image],
    output:
        digest=pattern(paths.IMAGE_DIGEST),
    log:
        log_path("containers", "digest_{image}"),
    benchmark:
        benchmark_path("containers", "digest_{image}")
    wildcard_constraints:
        image="|".join(ptb_containers.IMAGES),
    localrule: True
    params:
        definition=lambda w: f"containers/{w.image}.def",
    script:
        "../scripts/image_digest.py"
