# V3: switching run / pure run, per transition and metric.
set terminal pngcairo size 1200,520 noenhanced
set output out
set logscale y
set ylabel "switching / pure (1 = the convex combination)"
set xlabel "row of v3.md (objectives in blocks: separable, kronecker, mix, zipf)"
set title "V3: R_t, local smoothness, momentum error, noise ratio at switches vs pure runs"
set grid
set key outside right
plot data using ($4==0 ? $1 : 1/0):2:3 with yerrorbars pt 7 title "R_t", \
     data using ($4==1 ? $1 : 1/0):2:3 with yerrorbars pt 5 title "local smoothness", \
     data using ($4==2 ? $1 : 1/0):2:3 with yerrorbars pt 9 title "momentum error", \
     data using ($4==3 ? $1 : 1/0):2:3 with yerrorbars pt 11 title "noise rho", \
     1 with lines lw 2 lc rgb "black" notitle
